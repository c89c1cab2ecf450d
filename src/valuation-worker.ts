// The valuation pool's worker thread (src/stages/valuation-worker.ts). It sits beside main.ts so
// that one URL, relative to this folder, names it both from source and inside the compiled
// binary, where tools/build.ts bundles it as an entry point of its own.
import './stages/valuation-worker.ts'
