// Loaded by bun test (bunfig.toml) before any test file: registers the run-wide teardown of the
// real PostgreSQL and Kafka that integration tests start on demand (see infra.ts).
import './infra.ts'
