// The function's version and the hydrator image tied to it: a Job runs the
// hydrator from the very image the function shipped in.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
export const IMAGE_REPOSITORY = "ghcr.io/function-model-cache/function-model-cache";
export const DEFAULT_HYDRATOR_IMAGE = `${IMAGE_REPOSITORY}:v${VERSION}`;
