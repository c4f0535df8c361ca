import { useQuery } from '@tanstack/react-query';
import { createContext, useContext } from 'react';
import { api, type AuthOptions, type Session } from './api.js';
import { ProblemError } from './lib/problem.js';

export const SessionContext = createContext<Session | null>(null);

/** The signed-in session; only rendered inside the signed-in layout. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (s === null) throw new Error('useSession outside a signed-in page');
  return s;
}

export function useSessionQuery() {
  return useQuery({
    queryKey: ['session'],
    queryFn: async (): Promise<Session | null> => {
      try {
        return await api.session();
      } catch (err) {
        if (err instanceof ProblemError && err.problem.status === 401) return null;
        throw err;
      }
    },
    staleTime: 30_000,
  });
}

export function useAuthOptions() {
  return useQuery<AuthOptions>({
    queryKey: ['auth-options'],
    queryFn: api.options,
    staleTime: 300_000,
  });
}
