import type { Linter } from 'eslint';

export declare const DOMAIN: readonly string[];
export declare const VERIFIER: readonly string[];
export declare const ALLOWED: Readonly<Record<string, readonly string[]>>;
export declare const TYPES_ONLY: Readonly<Record<string, readonly string[]>>;
export declare function layerConfig(rootDir: string): Linter.Config[];
