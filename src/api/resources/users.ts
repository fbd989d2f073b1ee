import { ValidationError } from '../../errors.js';
import { usernameProblem } from '../../protocol/username.js';
import type { RequestOptions } from '../request.js';
import { Resource } from './resource.js';

/** The settings object `/user/register/v2` returns (the fields lanying-kb relies on; the rest pass through). */
export interface UserSettings {
  user_id: number;
  [field: string]: unknown;
}

export interface UserProfile {
  user_id: number;
  username: string;
  nick_name?: string;
  avatar?: string;
  mobile?: string;
  email?: string;
  description?: string;
  public_info?: string;
  private_info?: string;
}

export interface ProfileUpdate {
  nick_name?: string;
  description?: string;
  public_info?: string;
  private_info?: string;
}

export interface BatchRegisterResult {
  user_id?: number;
  username: string;
  success: boolean;
  reason?: string;
}

/** The swagger's username rule (`src/protocol/username.ts`), checked before anything is sent. */
function checkUsername(username: string, field = 'username'): void {
  const problem = usernameProblem(username);
  if (problem) throw new ValidationError(field, `"${username}" ${problem}`);
}

/** Users: registration and profiles. */
export class Users extends Resource {
  /** `POST /user/register/v2`. Sends no access token. The username is checked before anything is sent. */
  async register(input: { username: string; password: string }, options?: RequestOptions): Promise<UserSettings> {
    checkUsername(input.username);
    if (!input.password) throw new ValidationError('password', 'must not be empty');
    const res = await this.client.call<UserSettings>({
      ...options,
      method: 'POST',
      path: '/user/register/v2',
      body: { username: input.username, password: input.password },
      auth: false,
    });
    return res.data;
  }

  /** `POST /user/register/batch`: one result per user; a refused user does not fail the others. */
  async registerBatch(list: { username: string; password: string }[], options?: RequestOptions): Promise<BatchRegisterResult[]> {
    list.forEach((u, i) => checkUsername(u.username, `list[${i}].username`));
    const res = await this.client.call<BatchRegisterResult[]>({ ...options, method: 'POST', path: '/user/register/batch', body: { list } });
    return res.data;
  }

  /** `GET /user/profile` of the user named by `actAs`. */
  async profile(options: RequestOptions & { actAs: number }): Promise<UserProfile> {
    return (await this.client.get<UserProfile>('/user/profile', undefined, options)).data;
  }

  /** `POST /user/profile` of the user named by `actAs`. */
  async updateProfile(update: ProfileUpdate, options: RequestOptions & { actAs: number }): Promise<boolean> {
    return (await this.client.call<boolean>({ ...options, method: 'POST', path: '/user/profile', body: update })).data;
  }
}
