/**
 * The outside controls KeyWarden's controls map to. Mappings in a control's metadata must name an
 * entry here (the registry test checks it), so a typo cannot invent a requirement. Sources: the
 * anchor table in shared/reference/controls-anchors.md (Azure Policy built-ins read from
 * Azure/azure-policy, CIS numbering as encoded by Prowler, PCI DSS v4.0 requirement text).
 */

/** PCI DSS v4.0 requirements, keyed by number. */
export const PCI_DSS_V4: Readonly<Record<string, string>> = {
  "1.4.4": "System components that store cardholder data are not directly accessible from untrusted networks",
  "3.5.1.1": "Hashes/encryption used to render PAN unreadable use keyed cryptography with associated key-management processes",
  "3.6.1": "Procedures protect cryptographic keys against disclosure and misuse (fewest custodians, KEK strength, separate storage)",
  "3.6.1.1": "Documented description of the cryptographic architecture (algorithms, key strength and expiry, HSM inventory)",
  "3.6.1.2": "Secret and private keys are stored wrapped by a KEK, inside an SCD/HSM, or as key components",
  "3.6.1.3": "Access to cleartext cryptographic key components is restricted to the fewest custodians",
  "3.6.1.4": "Cryptographic keys are stored in the fewest possible locations",
  "3.7.1": "Key-management procedures cover generation of strong cryptographic keys",
  "3.7.2": "Key-management procedures cover secure distribution of keys",
  "3.7.3": "Key-management procedures cover secure storage of keys",
  "3.7.4": "Key changes at the end of the defined cryptoperiod",
  "3.7.5": "Retirement, replacement or destruction of keys at end of cryptoperiod, when weakened or compromised",
  "3.7.6": "Manual cleartext key-management operations use split knowledge and dual control",
  "3.7.7": "Prevention of unauthorized substitution of cryptographic keys",
  "3.7.8": "Key custodians formally acknowledge their responsibilities",
  "7.2.1": "An access control model is defined, based on job function and least privilege",
  "7.2.2": "Access is assigned to users based on job classification and function, with least privilege",
  "7.2.4": "User accounts and access privileges are reviewed periodically",
  "7.2.5": "Application and system accounts are assigned least privilege and limited to the systems that need them",
  "7.2.5.1": "Access by application and system accounts is reviewed periodically",
  "10.2.1": "Audit logs are enabled and active for all system components",
  "10.2.1.2": "Audit logs capture all actions taken by anyone with administrative access",
  "10.2.1.5": "Audit logs capture changes to identification and authentication credentials and privilege elevation",
  "10.2.1.6": "Audit logs capture initialization, and starting, stopping or pausing of the audit logs",
  "10.2.1.7": "Audit logs capture creation and deletion of system-level objects",
  "10.4.1": "Security events and critical-component logs are reviewed at least daily",
  "10.4.1.1": "Automated mechanisms are used to perform audit log reviews",
  "10.5.1": "Audit log history is retained for at least 12 months",
  "10.7.2": "Failures of critical security control systems are detected, alerted and addressed promptly",
  "12.10.1": "An incident response plan exists and is ready to be activated (business recovery and continuity)",
};

/** CIS Microsoft Azure Foundations Benchmark recommendations, keyed "<version> <number>". */
export const CIS_AZURE: Readonly<Record<string, string>> = {
  "2.0.0 3.12": "Ensure Storage for Critical Data are Encrypted with Customer Managed Keys",
  "2.0.0 4.1.3": "Ensure SQL server's TDE protector is encrypted with Customer-managed key",
  "2.0.0 5.1.5": "Ensure that logging for Azure Key Vault is 'Enabled'",
  "2.0.0 7.3": "Ensure that 'OS and Data' disks are encrypted with Customer Managed Key (CMK)",
  "2.0.0 7.4": "Ensure that 'Unattached disks' are encrypted with 'Customer Managed Key' (CMK)",
  "2.0.0 8.1": "Ensure that the Expiration Date is set for all Keys in RBAC Key Vaults",
  "2.0.0 8.5": "Ensure the Key Vault is Recoverable",
  "2.0.0 8.6": "Ensure that Role Based Access Control for Azure Key Vault is enabled",
  "2.0.0 8.7": "Ensure that Private Endpoints are Used for Azure Key Vault",
  "2.0.0 8.8": "Ensure Automatic Key Rotation is Enabled within Azure Key Vault for the Supported Services",
  "3.0.0 3.3.1": "Ensure that the Expiration Date is set for all Keys in RBAC Key Vaults",
  "3.0.0 3.3.5": "Ensure the Key Vault is Recoverable",
  "3.0.0 3.3.7": "Ensure that Private Endpoints are Used for Azure Key Vault",
  "3.0.0 3.3.8": "Ensure Automatic Key Rotation is Enabled within Azure Key Vault for the Supported Services",
  "3.0.0 4.11": "Ensure Storage for Critical Data are Encrypted with Customer Managed Keys",
  "3.0.0 5.1.3": "Ensure SQL server's TDE protector is encrypted with Customer-managed key",
  "3.0.0 6.1.4": "Ensure that logging for Azure Key Vault is 'Enabled'",
  "3.0.0 8.3": "Ensure that 'OS and Data' disks are encrypted with Customer Managed Key (CMK)",
  "4.0.0 2.1.1.2.1": "Ensure Critical Data is Encrypted with Customer Managed Keys (CMK)",
  "4.0.0 9.3.5": "Ensure the Key Vault is Recoverable",
  "4.0.0 9.3.7": "Ensure that Public Network Access when using Private Endpoint is disabled",
  "4.0.0 9.3.8": "Ensure that Private Endpoints are Used for Azure Key Vault",
  "4.0.0 9.3.9": "Ensure automatic key rotation is enabled within Azure Key Vault",
  "4.0.0 9.3.10": "Ensure that Azure Key Vault Managed HSM is used when required",
  "4.0.0 7.1.1.4": "Ensure that logging for Azure Key Vault is 'Enabled'",
};

/** Azure Policy built-in definitions, keyed by GUID. */
export const AZURE_POLICY: Readonly<Record<string, string>> = {
  "c39ba22d-4428-4149-b981-70acb31fc383": "Azure Key Vault Managed HSM should have purge protection enabled",
  "19ea9d63-adee-4431-a95e-1913c6c1c75f": "[Preview]: Azure Key Vault Managed HSM should disable public network access",
  "59fee2f4-d439-4f1b-9b9a-982e1474bfd8": "[Preview]: Azure Key Vault Managed HSM should use private link",
  "a2a5b911-5617-447e-a49e-59dbe0e0434b": "Resource logs in Azure Key Vault Managed HSM should be enabled",
  "b88bfd90-4da5-43eb-936f-ae1481924291": "Enable logging by category group for Managed HSMs (microsoft.keyvault/managedhsms) to Log Analytics",
  "1fd3b2cc-9904-40fa-b8da-050c02612da9": "Azure Key Vault Managed HSM keys should be the specified cryptographic type",
  "1d478a74-21ba-4b9f-9d8f-8e6fced0eec5": "[Preview]: Azure Key Vault Managed HSM keys should have an expiration date",
  "ad27588c-0198-4c84-81ef-08efd0274653": "[Preview]: Azure Key Vault Managed HSM Keys should have more than the specified number of days before expiration",
  "86810a98-8e91-4a44-8386-ec66d0de5d57": "[Preview]: Azure Key Vault Managed HSM keys using RSA cryptography should have a specified minimum key size",
  "ac01ad65-10e5-46df-bdd9-6b0cad13e1d2": "SQL managed instances should use customer-managed keys to encrypt data at rest",
  "702dd420-7fcc-42c5-afe8-4026edd20fe0": "OS and data disks should be encrypted with a customer-managed key",
  "d461a302-a187-421a-89ac-84acdb4edc04": "Managed disks should use a specific set of disk encryption sets for the customer-managed key encryption",
  "ca91455f-eace-4f96-be59-e6e2c35b4816": "Managed disks should be double encrypted with both platform-managed and customer-managed keys",
  "6fac406b-40ca-413b-bf8e-0bf964659c25": "Storage accounts should use customer-managed key for encryption",
};
