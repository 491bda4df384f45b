import { useEffect } from 'react';

// Mutations on one tab (unlocking the keyring, adding a target) change what
// the status banner and the other views show; they refresh at once instead
// of waiting for their next poll.
const listeners = new Set<() => void>();

/** Tells every mounted deployments view that the backend state changed. */
export function notifyDeploymentsChanged(): void {
  for (const listener of [...listeners]) listener();
}

/** Calls `onChange` whenever a deployments view reports a change. */
export function useDeploymentsChanged(onChange: () => void): void {
  useEffect(() => {
    listeners.add(onChange);
    return () => {
      listeners.delete(onChange);
    };
  }, [onChange]);
}
