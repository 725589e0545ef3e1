/** Who sent a message or pressed a button, as far as the bot knows. Roles come from the roster (issue 4). */
export interface Actor {
  openId: string;
  name?: string;
  isAdmin: boolean;
}

export type ActorResolver = (openId: string) => Actor;

export function adminListResolver(adminOpenIds: readonly string[]): ActorResolver {
  const admins = new Set(adminOpenIds);
  return (openId) => ({ openId, isAdmin: admins.has(openId) });
}
