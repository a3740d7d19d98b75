import { faultMatrixSuite, type MatrixOperation } from "../support/faultMatrix.js";

/** The reads the snapshot needs, under every fault (issue 10): the round fails loudly or converges on the rerun. */
const OPERATIONS: MatrixOperation[] = [
  { name: "HSM resource read", operationId: "ManagedHsms_Get" },
  { name: "list keys", operationId: "GetKeys" },
  { name: "key versions", operationId: "GetKeyVersions" },
  { name: "rotation policy read", operationId: "GetKeyRotationPolicy" },
  { name: "HSM role assignments", operationId: "RoleAssignments_ListForScope" },
  { name: "list SQL MIs", operationId: "ManagedInstances_List", hidesConsumers: true },
  { name: "TDE protector read", operationId: "ManagedInstanceEncryptionProtectors_Get", hidesConsumers: true },
  { name: "SQL failover groups", operationId: "InstanceFailoverGroups_ListByLocation" },
  { name: "list DESes", operationId: "DiskEncryptionSets_List", hidesConsumers: true },
  { name: "list storage", operationId: "StorageAccounts_List", hidesConsumers: true },
];

faultMatrixSuite("fault matrix: the snapshot's reads", "snapshot reads", OPERATIONS);
