/**
 * Creates a collection BEDS owns (its log store's) with its indexes. The
 * indexes are asked for at every start, not only when the collection is
 * created: a start that created the collection may have failed before its
 * indexes, and createIndexes of an index that exists with the same key does
 * nothing.
 *
 * @module
 */

/** The parts of the driver's `Db` this module uses. */
export interface DbLike {
  listCollections(filter: { name: string }, options: { nameOnly: true }): { toArray(): Promise<unknown[]> };
  createCollection(name: string): Promise<unknown>;
  collection(name: string): {
    createIndexes(specs: Array<{ key: Record<string, 1 | -1> }>): Promise<unknown>;
  };
}

/** Options for {@link ensureCollectionIn}. */
export interface EnsureCollectionOptions {
  /** The collection's name. */
  name: string;
  /** The key of each index it needs. */
  indexes: ReadonlyArray<Record<string, 1 | -1>>;
}

/** Creates the collection in `db` when it does not exist, then its indexes. */
export async function ensureCollectionIn(db: DbLike, options: EnsureCollectionOptions): Promise<void> {
  const { name, indexes } = options;
  if (!(await db.listCollections({ name }, { nameOnly: true }).toArray()).length) {
    try {
      await db.createCollection(name);
    } catch (error) {
      // Another node created it meanwhile: its indexes are asked for below all the same.
      if ((error as { codeName?: string }).codeName !== "NamespaceExists") throw error;
    }
  }
  if (indexes.length) await db.collection(name).createIndexes(indexes.map((key) => ({ key })));
}
