/** Every metric countersign exposes starts with this, the process's own metrics too. */
export const METRIC_PREFIX = 'countersign_';
