/** The folders of the core that `npm run mutate` covers, in the order it runs them. */
export const FOLDERS = ["theory", "optim", "probe", "train"];
