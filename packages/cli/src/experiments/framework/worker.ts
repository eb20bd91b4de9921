/**
 * Entry point of a runner worker thread: imports the registry (and any extra modules),
 * looks the experiment up by id, then executes the runs it is sent, one at a time, and
 * posts each result back as encoded JSON.
 *
 * @module
 */
import { performance } from "node:perf_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { initEngine } from "softmax-ghosts/engine";
import { getExperiment } from "../registry.js";
import { createDataLoader } from "./data.js";
import { encodeJson } from "./json.js";
import { type FromWorker, type ToWorker, throttleProgress, type WorkerInit } from "./protocol.js";
import { runWeightSaver } from "./weights.js";

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error("worker.ts must run in a worker thread");

if (init.device !== undefined) await initEngine(init.device);
for (const spec of init.imports) await import(spec);
const def = getExperiment(init.experimentId);
const loadData = createDataLoader();

const post = (msg: FromWorker) => port.postMessage(msg);

port.on("message", async (msg: ToWorker) => {
  const start = performance.now();
  try {
    const result = await def.execute(msg.run, {
      runKey: msg.key,
      data: init.data,
      loadData,
      onProgress: throttleProgress((fraction) =>
        post({ type: "progress", index: msg.index, fraction }),
      ),
      ...(init.saveDir === undefined
        ? {}
        : { saveWeights: runWeightSaver(init.saveDir, init.experimentId, msg.key) }),
    });
    const text = encodeJson(result, `result of run ${msg.key}`);
    post({ type: "result", index: msg.index, text, seconds: (performance.now() - start) / 1000 });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: "error", index: msg.index, name: e.name, message: e.message });
  }
});
