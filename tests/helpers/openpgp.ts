/** OpenPGP as a project owner uses it in tests: a key pair, and decryption of what fieldgate kept. */
import * as openpgp from "openpgp";

/** A fresh owner key pair (armored, no passphrase), as `gpg --armor --export[-secret-keys]` would give. */
export async function ownerKeys(): Promise<{ publicKey: string; privateKey: string }> {
  return await openpgp.generateKey({ userIDs: [{ name: "Project Owner", email: "owner@example.org" }] });
}

/** Decrypts a binary OpenPGP message with the owner's armored private key. */
export async function decrypt(ciphertext: Uint8Array, armoredPrivateKey: string): Promise<Uint8Array> {
  const decryptionKeys = await openpgp.readPrivateKey({ armoredKey: armoredPrivateKey });
  const message = await openpgp.readMessage({ binaryMessage: ciphertext });
  return (await openpgp.decrypt({ message, decryptionKeys, format: "binary" })).data as Uint8Array;
}
