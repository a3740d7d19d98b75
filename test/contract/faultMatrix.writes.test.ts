import { faultMatrixSuite, type MatrixOperation } from "../support/faultMatrix.js";

/** Every write the rotation makes, under every fault (issue 10): the rerun converges, nothing twice, nothing lost. */
const OPERATIONS: MatrixOperation[] = [
  { name: "rotation policy", operationId: "UpdateKeyRotationPolicy", crashAfter: "rotationPolicy" },
  { name: "rotate", operationId: "RotateKey", crashAfter: "rotateKey" },
  { name: "SQL MI key", operationId: "ManagedInstanceKeys_CreateOrUpdate", lro: true, crashAfter: "sqlMiKey" },
  { name: "encryption protector", operationId: "ManagedInstanceEncryptionProtectors_CreateOrUpdate", lro: true, crashAfter: "tdeProtector" },
  { name: "DES patch", operationId: "DiskEncryptionSets_Update", lro: true, crashAfter: "diskEncryptionSet" },
  { name: "storage patch", operationId: "StorageAccounts_Update", crashAfter: "storageAccount" },
];

faultMatrixSuite("fault matrix: the rotation's writes", "writes", OPERATIONS);
