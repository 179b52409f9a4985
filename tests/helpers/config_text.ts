/** A minimal valid config: one read broker on the appServer role, a MariaDB master. */
export const MINIMAL_CONFIG = `[amqp]
user = "beds"
pass = ""

[brokers.rBroker]
ops = ["read"]
bindings = ["read.*"]

[nodes.appServer]
brokers = ["rBroker"]

[databases.mariadb.master]
user = "beds"
password = ""
`;
