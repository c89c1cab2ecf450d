import { eventLogContract } from '../ports/event-log.contract.ts'
import { MemoryLog } from './memory-log.ts'

eventLogContract('memory', { open: async () => new MemoryLog(), rebalanceTimeoutMs: 2_000 })
