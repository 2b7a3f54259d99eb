#!/usr/bin/env node
// Committed launcher so `npx shoal` works: the compiled entry in dist/ is created after
// npm links bins, so it would not carry the executable bit itself.
import '../dist/main.js';
