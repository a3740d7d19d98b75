/**
 * A throw-away CA and a server certificate generated at start, in memory only (never written to the repo).
 * RSA keys come from node:crypto (fast, native); node-forge builds and signs the X.509 certificates.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import forge from "node-forge";
import { EVENT_GRID_REGIONS, INGESTION_REGIONS } from "./fixture.js";

export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function forgeKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), pem };
}

/** Positive serial number: a leading 0x01 byte keeps the DER integer positive. */
const serial = (): string => "01" + randomBytes(15).toString("hex");

export function generateTlsMaterial(): TlsMaterial {
  const now = Date.now();
  const notBefore = new Date(now - 24 * 3600_000);
  const notAfter = new Date(now + 90 * 24 * 3600_000);

  const ca = forgeKeys();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = ca.publicKey;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = notBefore;
  caCert.validity.notAfter = notAfter;
  const caSubject = [{ name: "commonName", value: "KeyWarden Azure emulator CA" }, { name: "organizationName", value: "KeyWarden (local test)" }];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  caCert.sign(ca.privateKey, forge.md.sha256.create());

  const leaf = forgeKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = leaf.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ name: "commonName", value: "127.0.0.1" }]);
  cert.setIssuer(caSubject);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 7, ip: "127.0.0.1" },
        { type: 2, value: "localhost" },
        { type: 2, value: "*.managedhsm.azure.net" },
        // Event Grid topic hosts are <topic>.<region>-1.eventgrid.azure.net; a wildcard covers one label only.
        ...EVENT_GRID_REGIONS.map((region) => ({ type: 2, value: `*.${region}-1.eventgrid.azure.net` })),
        // Data collection endpoints are <endpoint>.<region>-1.ingest.monitor.azure.com.
        ...INGESTION_REGIONS.map((region) => ({ type: 2, value: `*.${region}-1.ingest.monitor.azure.com` })),
        // The Log Analytics query API and the regional metrics batch API (<region>.metrics.monitor.azure.com).
        { type: 2, value: "api.loganalytics.io" },
        { type: 2, value: "*.metrics.monitor.azure.com" },
      ],
    },
    { name: "subjectKeyIdentifier" },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.privateKey, forge.md.sha256.create());

  return { caPem: forge.pki.certificateToPem(caCert), certPem: forge.pki.certificateToPem(cert), keyPem: leaf.pem };
}
