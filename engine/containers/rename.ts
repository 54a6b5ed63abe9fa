/** `docker rename`: the name registry moves atomically with the record. */
import { InvalidParameterError } from '../errdefs.js';
import type { Container } from './container.js';
import type { Lifecycle } from './lifecycle.js';
import { validateName } from './names.js';

export async function renameContainer(lc: Lifecycle, c: Container, newName: string): Promise<void> {
  const name = validateName(newName);
  const store = lc.d.store;
  const old = c.name;
  if (old === name) throw new InvalidParameterError('Renaming a container with the same name as its current name');
  await c.lock.run(async () => {
    store.reserveName(name, c.id);
    c.record.name = name;
    try {
      await store.save(c);
    } catch (err) {
      c.record.name = old;
      store.releaseName(name, c.id);
      throw err;
    }
    store.releaseName(old, c.id);
  });
  lc.event(c, 'rename', { oldName: `/${old}` });
}
