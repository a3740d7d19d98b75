import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAULTS, startFaultMatrix, type FaultMatrix, type MatrixOperation } from "../support/faultMatrix.js";

/** Every write the rotation makes, under every fault (issue 10): the rerun converges, nothing twice, nothing lost. */
const OPERATIONS: MatrixOperation[] = [
  { name: "rotation policy", operationId: "UpdateKeyRotationPolicy", crashAfter: "rotationPolicy" },
  { name: "rotate", operationId: "RotateKey", crashAfter: "rotateKey" },
  { name: "SQL MI key", operationId: "ManagedInstanceKeys_CreateOrUpdate", lro: true, crashAfter: "sqlMiKey" },
  { name: "encryption protector", operationId: "ManagedInstanceEncryptionProtectors_CreateOrUpdate", lro: true, crashAfter: "tdeProtector" },
  { name: "DES patch", operationId: "DiskEncryptionSets_Update", lro: true, crashAfter: "diskEncryptionSet" },
  { name: "storage patch", operationId: "StorageAccounts_Update", crashAfter: "storageAccount" },
];

describe("fault matrix: the rotation's writes", () => {
  let m: FaultMatrix;
  beforeAll(async () => {
    m = await startFaultMatrix();
  }, 30_000);
  afterAll(async () => {
    if (m) {
      console.log(`Fault matrix (writes):\n${m.table(OPERATIONS)}`);
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
