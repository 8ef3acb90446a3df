// The API group, version and kinds this function serves, named once.
export const API_GROUP = "modelcache.dev";
export const API_VERSION = `${API_GROUP}/v1alpha1`;
export const MODEL_CACHE_KIND = "ModelCache";
export const REPLICA_KIND = "ModelCacheReplica";
