import type { StepKind } from "../plan.js";
import { diskEncryptionSet } from "./diskEncryptionSet.js";
import { rotateKey } from "./rotateKey.js";
import { rotationPolicy } from "./rotationPolicy.js";
import { sqlMiKey } from "./sqlMiKey.js";
import type { StepHandler } from "./stepHandler.js";
import { storageAccount } from "./storageAccount.js";
import { tdeProtector } from "./tdeProtector.js";

/** One handler per step kind. */
export const STEP_HANDLERS: Readonly<Record<StepKind, StepHandler<never>>> = {
  rotationPolicy,
  rotateKey,
  sqlMiKey,
  tdeProtector,
  diskEncryptionSet,
  storageAccount,
} as Record<StepKind, StepHandler<never>>;
