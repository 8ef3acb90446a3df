import { defineConfig } from "vitest/config";

// Two projects: fast unit tests beside the code, and integration tests under
// test/ that start real servers (the function, crossplane render, nginx, a
// registry, an S3 server). Integration tests run one file at a time because
// they share ports and a 2-core machine.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["functions/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
