import { faultMatrixSuite } from "../support/faultMatrix.js";
import { WRITE_OPERATIONS } from "../support/faultMatrixOperations.js";

/** Every write the rotation makes, under every fault (issue 10): the rerun converges, nothing twice, nothing lost. */
faultMatrixSuite("fault matrix: the rotation's writes", "writes", WRITE_OPERATIONS);
