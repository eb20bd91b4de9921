// Stand-in for Node's "events" module for CommonJS code that subclasses EventEmitter at load
// time (cli-progress, pulled in by the experiment framework); the page never emits through it.
module.exports = class EventEmitter {
  on() {
    return this;
  }
  emit() {
    return false;
  }
};
