#!/usr/bin/env node
// The package's one command. The sources are TypeScript run directly by
// Node 24's type stripping, so there is nothing to build first.
import "../functions/cli.ts";
