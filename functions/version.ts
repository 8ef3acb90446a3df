// The function's version and the hydrator image its Jobs run.
//
// Where the hydrator image comes from, first match wins: the Composition's
// Input (hydratorImage), then --hydrator-image, then the environment variable
// FUNCTION_MODEL_CACHE_HYDRATOR_IMAGE. The released function image sets that
// variable at build time to its hydrator image by digest (the Dockerfile's
// `function` stage is built FROM the `hydrator` stage once that is pushed,
// with --build-arg HYDRATOR_IMAGE=<repository>@sha256:<digest>, and refuses to
// build without a digest): an image cannot carry its own digest, so the
// function image carries its hydrator's. Every source is checked
// (functions/api/image.ts: no :latest, no missing tag). Only local
// development (`serve --insecure`, crossplane render) may fall back to
// DEV_HYDRATOR_IMAGE, the version's tag; with TLS the server refuses to start
// without an image.
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
export const IMAGE_REPOSITORY = "ghcr.io/function-model-cache/function-model-cache";
/** Local development only (see above): a tag, never used by a function serving with TLS. */
export const DEV_HYDRATOR_IMAGE = `${IMAGE_REPOSITORY}:v${VERSION}`;
