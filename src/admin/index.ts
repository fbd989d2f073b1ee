/**
 * `lanying-kb/admin`: the administration pipelines of the CLI's admin commands: provisioning users, friends and
 * groups from the configuration (`apply`), push-image checks and file messages. (The run summary, `notifyRun`, is in
 * the core: `syncOnce` sends it.)
 *
 * ```ts
 * import { createClient, loadConfig } from 'lanying-kb';
 * import { applyProvision } from 'lanying-kb/admin';
 * ```
 */
export { applyProvision, type ApplyOptions, type ApplyResult, type ProvisionAction } from './provision.js';
export { checkPushImage } from './push-image.js';
export { sendFileMessage } from './send-file.js';
