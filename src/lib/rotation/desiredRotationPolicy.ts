import type { KeyRotationPolicy } from "../config/types.js";

/**
 * The Managed HSM rotation policy the policy document asks for: each version expires `expireAfter` after it is
 * created and is rotated `rotateAfter` after it. Managed HSM takes only Rotate actions (no Notify): near-expiry
 * notice is KeyWarden's job.
 */
export function desiredRotationPolicy(rotation: KeyRotationPolicy): { expiresIn: string; rotateTimeAfterCreate: string } {
  return { expiresIn: rotation.expireAfter.iso, rotateTimeAfterCreate: rotation.rotateAfter.iso };
}
