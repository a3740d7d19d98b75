import { faultMatrixSuite, RETRIED_FAULTS } from "../support/faultMatrix.js";
import { EXECUTOR_AND_TELLING_OPERATIONS, READ_OPERATIONS, WRITE_OPERATIONS } from "../support/faultMatrixOperations.js";

/**
 * Every Azure call of the matrix throttled with the request layer's retries on (issue 10: 429 with and without
 * Retry-After): the faulted round itself converges, and a Retry-After is waited out before the retry.
 */
faultMatrixSuite("fault matrix: throttling retried", "429 retried", [...WRITE_OPERATIONS, ...READ_OPERATIONS, ...EXECUTOR_AND_TELLING_OPERATIONS], RETRIED_FAULTS);
