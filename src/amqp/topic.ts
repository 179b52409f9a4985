/**
 * RabbitMQ's topic matching: whether a binding key routes a routing key.
 * Words are separated by dots; `*` stands for exactly one word, `#` for
 * zero or more. Pure.
 *
 * @module
 */

/** True when binding key `pattern` routes `routingKey` on a topic exchange. */
export function topicMatches(pattern: string, routingKey: string): boolean {
  return matchWords(pattern.split("."), 0, routingKey.split("."), 0);
}

function matchWords(pattern: readonly string[], p: number, key: readonly string[], k: number): boolean {
  if (p === pattern.length) return k === key.length;
  const word = pattern[p]!;
  if (word === "#") {
    // Zero words, or one more and try again.
    return matchWords(pattern, p + 1, key, k) || (k < key.length && matchWords(pattern, p, key, k + 1));
  }
  return k < key.length && (word === "*" || word === key[k]) && matchWords(pattern, p + 1, key, k + 1);
}
