import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULTS, startFaultMatrix, type FaultMatrix, type MatrixOperation } from "../support/faultMatrix.js";

/** The reads the snapshot needs, under every fault (issue 10): the round fails loudly or converges on the rerun. */
const OPERATIONS: MatrixOperation[] = [
  { name: "HSM resource read", operationId: "ManagedHsms_Get" },
  { name: "list keys", operationId: "GetKeys" },
  { name: "key versions", operationId: "GetKeyVersions" },
  { name: "rotation policy read", operationId: "GetKeyRotationPolicy" },
  { name: "HSM role assignments", operationId: "RoleAssignments_ListForScope" },
  { name: "list SQL MIs", operationId: "ManagedInstances_List", hidesConsumers: true },
  { name: "TDE protector read", operationId: "ManagedInstanceEncryptionProtectors_Get", hidesConsumers: true },
  { name: "list DESes", operationId: "DiskEncryptionSets_List", hidesConsumers: true },
  { name: "list storage", operationId: "StorageAccounts_List", hidesConsumers: true },
];

describe("fault matrix: the snapshot's reads", () => {
  let m: FaultMatrix;
  beforeAll(async () => {
    m = await startFaultMatrix();
  }, 30_000);
  afterAll(async () => {
    if (m) {
      console.log(`Fault matrix (snapshot reads):\n${m.table(OPERATIONS)}`);
      await m.close();
    }
  });

  for (const op of OPERATIONS) {
    for (const fault of FAULTS) {
      it(`${op.name} × ${fault}`, async (ctx) => {
        if (!m.applies(op, fault)) return ctx.skip();
        expect(await m.cell(op, fault)).toEqual([]);
      });
    }
  }
});
