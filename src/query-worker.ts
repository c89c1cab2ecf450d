// The query pool's worker thread (src/query/query-worker.ts). It sits beside main.ts so that one
// URL, relative to this folder, names it both from source and inside the compiled binary, where
// tools/build.ts bundles it as an entry point of its own.
import './query/query-worker.ts'
