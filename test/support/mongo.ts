/**
 * MongoDB for tests. Placeholder left by the Redis storage work so contract tests have a marked place for the
 * MongoDB run; the MongoDB implementation owns this file and may replace it (e.g. to start a real `mongod`).
 *
 * Until then: `describeMongo` runs its block only when a MongoDB URL is available, and skips it otherwise.
 */
export function mongoTestUri(): string | undefined {
  return process.env.PORTCULLIS_TEST_MONGODB_URI ?? process.env.MONGODB_URI;
}

/** `describe` when MongoDB is available, `describe.skip` otherwise. */
export const describeMongo: jest.Describe = mongoTestUri() ? describe : describe.skip;
