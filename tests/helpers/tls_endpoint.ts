/**
 * A TLS endpoint for tests: a throw-away CA and server certificate made with
 * openssl, and stunnel terminating TLS on a free local port in front of a
 * plain TCP service (RabbitMQ's 5672).
 *
 * @module
 */
import { terminate } from "../../lab/bench/proc.ts";

/** A running TLS endpoint and its files. */
export interface TlsEndpoint {
  /** Port stunnel accepts TLS on (127.0.0.1). */
  port: number;
  /** The CA that signed the server certificate. */
  caFile: string;
  /** A CA that signed nothing here. */
  otherCaFile: string;
  /** Lines stunnel logged so far. */
  log(): Promise<string>;
  /** Stops stunnel and removes every file. */
  stop(): Promise<void>;
}

async function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

async function which(name: string): Promise<string | undefined> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${name}`], stdout: "piped" }).output();
  const path = new TextDecoder().decode(out.stdout).trim();
  return out.success && path ? path : undefined;
}

/** The stunnel binary; installs Debian's stunnel4 when it is missing (CI runs as root). */
async function stunnelBinary(): Promise<string> {
  const found = await which("stunnel4") ?? await which("stunnel");
  if (found) return found;
  await run("apt-get", ["install", "-y", "stunnel4"]).catch(async () => {
    await run("apt-get", ["update"]);
    await run("apt-get", ["install", "-y", "stunnel4"]);
  });
  const installed = await which("stunnel4") ?? await which("stunnel");
  if (!installed) {
    throw new Error("stunnel is not installed and could not be installed (apt-get install stunnel4)");
  }
  return installed;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** Test certificates in a temp dir. */
export interface TestCertificates {
  /** The CA that signed the server certificate. */
  caFile: string;
  /** A CA that signed nothing here. */
  otherCaFile: string;
  /** Server certificate for 127.0.0.1 and localhost, and its key. */
  certFile: string;
  keyFile: string;
  /** Removes the files. */
  remove(): Promise<void>;
}

/** Makes a CA, a server certificate for 127.0.0.1/localhost and an unrelated CA in a new temp dir. */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "beds_certs_" });
  const remove = () => Deno.remove(dir, { recursive: true }).catch(() => {});
  try {
    await makeCertificates(dir);
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    caFile: `${dir}/ca.pem`,
    otherCaFile: `${dir}/other.pem`,
    certFile: `${dir}/server.pem`,
    keyFile: `${dir}/server.key`,
    remove,
  };
}

async function makeCertificates(dir: string): Promise<void> {
  const days = ["-days", "2"];
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    ...days,
    "-subj",
    "/CN=BEDS test CA",
  ], dir);
  await run("openssl", [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ], dir);
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    ...days,
    "-extfile",
    "server.ext",
  ], dir);
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "other.key",
    "-out",
    "other.pem",
    ...days,
    "-subj",
    "/CN=Unrelated CA",
  ], dir);
}

/** Starts stunnel on a free port, forwarding to 127.0.0.1:`targetPort`. */
export async function startTlsEndpoint(targetPort = 5672): Promise<TlsEndpoint> {
  const binary = await stunnelBinary();
  const dir = await Deno.makeTempDir({ prefix: "beds_tls_" });
  let child: Deno.ChildProcess | undefined;
  const stop = async () => {
    if (child) {
      await terminate(child, 10_000);
      child = undefined;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await makeCertificates(dir);
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/stunnel.conf`,
      `foreground = yes\npid =\ndebug = 5\noutput = ${dir}/stunnel.log\n\n[amqps]\n` +
        `accept = 127.0.0.1:${port}\nconnect = 127.0.0.1:${targetPort}\n` +
        `cert = ${dir}/server.pem\nkey = ${dir}/server.key\n`,
    );
    child = new Deno.Command(binary, { args: [`${dir}/stunnel.conf`], stdout: "null", stderr: "null" })
      .spawn();
    const end = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (Date.now() > end) throw new Error(`stunnel did not listen on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      port,
      caFile: `${dir}/ca.pem`,
      otherCaFile: `${dir}/other.pem`,
      log: () => Deno.readTextFile(`${dir}/stunnel.log`).catch(() => ""),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
