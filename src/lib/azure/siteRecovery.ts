/**
 * Azure Site Recovery's mobility service extension on a VM, from the VM list's `resources`. ASR installs it itself
 * when replication is enabled: publisher Microsoft.Azure.RecoveryServices.SiteRecovery (or …SiteRecovery2; the
 * staging Microsoft.Azure.SiteRecovery.Stage), type Windows, Linux or Linux<Distro>, named SiteRecovery-Windows,
 * SiteRecovery-Linux or SiteRecovery-Linux<Distro>. ARM's VM *list* returns each extension as its id only, so the
 * name (the id's last segment) decides there; a full extension (VM GET) is judged by its publisher.
 */
const PUBLISHER = /^microsoft\.azure\.(recoveryservices\.siterecovery2?|siterecovery\.stage)$/i;
const NAME = /^siterecovery-(windows|linux)/i;

/** What a VM's `resources` entry tells (the SDK types `location` as required; a listed extension has only its id). */
export interface VmExtensionRef {
  id?: string;
  name?: string;
  publisher?: string;
}

/** true: an ASR extension is on the VM; false: none of its extensions is ASR's; undefined: one could not be judged. */
export function siteRecoveryProtected(resources: readonly VmExtensionRef[] | undefined): boolean | undefined {
  let unjudged = false;
  for (const ext of resources ?? []) {
    if (ext.publisher !== undefined) {
      if (PUBLISHER.test(ext.publisher)) return true;
      continue;
    }
    const name = ext.name ?? ext.id?.split("/").filter(Boolean).pop();
    if (name === undefined) unjudged = true;
    else if (NAME.test(name)) return true;
  }
  return unjudged ? undefined : false;
}
