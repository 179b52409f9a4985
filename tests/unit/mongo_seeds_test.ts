import assert from "node:assert/strict";
import { describeMongo, describeSeeds, mongoSeeds } from "../../src/ipl/mongodb.ts";

Deno.test("mongoSeeds() lists every host of a seed list, 27017 where none is given", async (t) => {
  await t.step("one host, with and without its port", () => {
    assert.deepEqual(mongoSeeds("mongodb://127.0.0.1:27018/beds"), [{ host: "127.0.0.1", port: 27018 }]);
    assert.deepEqual(mongoSeeds("mongodb://db.example"), [{ host: "db.example", port: 27017 }]);
  });
  await t.step("a replica set's seed list, credentials and options left out", () => {
    assert.deepEqual(mongoSeeds("mongodb://u:p%40ss@m1:27017,m2,m3:27019/beds?replicaSet=rs0"), [
      { host: "m1", port: 27017 },
      { host: "m2", port: 27017 },
      { host: "m3", port: 27019 },
    ]);
  });
  await t.step("IPv6 hosts in brackets", () => {
    const seeds = mongoSeeds("mongodb://[::1]:27017,[fd00::2]/?replicaSet=rs0");
    assert.deepEqual(seeds, [{ host: "::1", port: 27017 }, { host: "fd00::2", port: 27017 }]);
    assert.equal(describeSeeds(seeds!), "[::1]:27017,[fd00::2]:27017");
  });
});

Deno.test("mongoSeeds() gives no hosts to probe for an SRV URL or a socket path", () => {
  // The driver resolves an SRV name to hosts of its own; port 27017 of the name means nothing.
  assert.equal(mongoSeeds("mongodb+srv://u:p@cluster0.abcde.mongodb.net/beds"), undefined);
  assert.equal(mongoSeeds("mongodb://%2Ftmp%2Fmongodb-27017.sock"), undefined);
});

Deno.test("describeMongo() names the hosts and database, never the credentials or the query", () => {
  const secret = "Key-S3cret";
  for (
    const [url, shown] of [
      [
        `mongodb://u:${secret}@m1:27017,m2/beds?replicaSet=rs0&tlsCertificateKeyFilePassword=${secret}`,
        "m1:27017,m2:27017",
      ],
      [
        `mongodb+srv://u:p@cluster0.example.net/?authMechanismProperties=AWS_SESSION_TOKEN:${secret}`,
        "SRV cluster0.example.net",
      ],
      ["mongodb://%2Ftmp%2Fmongodb-27017.sock/?tls=false", "/tmp/mongodb-27017.sock"],
    ]
  ) {
    assert.equal(describeMongo(url!, "logs"), `${shown} (database "logs")`);
  }
});
