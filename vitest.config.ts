import { defineConfig } from "vitest/config";

// Three projects: fast unit tests beside the code, and integration tests under
// test/ that start real servers (the function, crossplane render, nginx, a
// registry, an S3 server), and the live suite against a real control plane
// (npm run test:live). Integration tests run one file at a time because
// they share ports and a 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["functions/**/*.test.ts"],
          // npm test builds the live control plane beside the unit tests: a
          // loaded 2-core machine, so a generous bound (no test is timed).
          testTimeout: 30_000,
          setupFiles: ["test/support/fast-check-seed.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["test/live/**"],
          setupFiles: ["test/support/fast-check-seed.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
      {
        // Against the live control plane that scripts/live/test.sh starts.
        test: {
          name: "live",
          include: ["test/live/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
