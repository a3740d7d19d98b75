import { faultMatrixSuite } from "../support/faultMatrix.js";
import { EXECUTOR_AND_TELLING_OPERATIONS, OUTBOX_CRASH_OPERATIONS, STORE_OPERATIONS } from "../support/faultMatrixOperations.js";

/**
 * The executor's fresh reads, the round's telling (Event Grid, Logs Ingestion) and the state store (journal
 * writes, the outbox, the key lock's lease) under every fault (issue 10), and a crash between an outbox's enqueue
 * and its send.
 */
faultMatrixSuite("fault matrix: executor reads, telling, state store", "executor reads, telling, state store", [...EXECUTOR_AND_TELLING_OPERATIONS, ...STORE_OPERATIONS, ...OUTBOX_CRASH_OPERATIONS]);
