import { faultMatrixSuite } from "../support/faultMatrix.js";
import { READ_OPERATIONS } from "../support/faultMatrixOperations.js";

/** The reads the snapshot needs, under every fault (issue 10): the round fails loudly or converges on the rerun. */
faultMatrixSuite("fault matrix: the snapshot's reads", "snapshot reads", READ_OPERATIONS);
