/** Push rules (spec: Client-Server § Push Rules: API, pushrules.yaml). Only the `global` scope exists. */
import type { Hono } from "hono";
import { z } from "zod";
import { isValidAction, type PushAction, type PushCondition } from "../../matrix/push";
import { changePushRule, deletePushRule, getPushRule, getPushRuleset, parsePushRuleKind, putPushRule } from "../../services/push-rules";
import type { AppEnv } from "../app-env";
import { clientPaths, route } from "../route";

const actions = z.array(z.unknown()).refine((list) => list.every(isValidAction), "actions must be \"notify\" or {\"set_tweak\": …}");
const condition = z.looseObject({ kind: z.string() });

const ruleBody = z.looseObject({
  actions,
  conditions: z.array(condition).optional(),
  pattern: z.string().optional(),
});

export function registerPushRuleRoutes(app: Hono<AppEnv>): void {
  // GET /_matrix/client/v3/pushrules/ (§ Push Rules: API). Clients call it with the trailing slash.
  route(app, {
    method: "GET",
    paths: clientPaths("/pushrules"),
    auth: "user",
    handler: async ({ deps, session }) => ({ global: await getPushRuleset(deps, session.userId) }),
  });

  // GET /_matrix/client/v3/pushrules/global/
  route(app, {
    method: "GET",
    paths: clientPaths("/pushrules/global"),
    auth: "user",
    handler: ({ deps, session }) => getPushRuleset(deps, session.userId),
  });

  // GET /_matrix/client/v3/pushrules/global/{kind}/ — one kind's rules, in order (as Synapse answers).
  route(app, {
    method: "GET",
    paths: clientPaths("/pushrules/global/:kind"),
    auth: "user",
    handler: async ({ deps, session, params }) => {
      const kind = parsePushRuleKind(params.kind!);
      return (await getPushRuleset(deps, session.userId))[kind];
    },
  });

  // GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}
  route(app, {
    method: "GET",
    paths: clientPaths("/pushrules/global/:kind/:ruleId"),
    auth: "user",
    handler: ({ deps, session, params }) => getPushRule(deps, session.userId, parsePushRuleKind(params.kind!), params.ruleId!),
  });

  // PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}?before=&after=
  route(app, {
    method: "PUT",
    paths: clientPaths("/pushrules/global/:kind/:ruleId"),
    auth: "user",
    body: ruleBody,
    query: z.object({ before: z.string().optional(), after: z.string().optional() }),
    handler: async ({ deps, session, params, body, query }) => {
      const kind = parsePushRuleKind(params.kind!);
      const rule = { actions: body.actions as PushAction[], conditions: body.conditions as PushCondition[] | undefined, pattern: body.pattern };
      await putPushRule(deps, session.userId, kind, params.ruleId!, rule, query);
      return {};
    },
  });

  // DELETE /_matrix/client/v3/pushrules/global/{kind}/{ruleId}
  route(app, {
    method: "DELETE",
    paths: clientPaths("/pushrules/global/:kind/:ruleId"),
    auth: "user",
    handler: async ({ deps, session, params }) => {
      await deletePushRule(deps, session.userId, parsePushRuleKind(params.kind!), params.ruleId!);
      return {};
    },
  });

  // GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled
  route(app, {
    method: "GET",
    paths: clientPaths("/pushrules/global/:kind/:ruleId/enabled"),
    auth: "user",
    handler: async ({ deps, session, params }) => {
      const rule = await getPushRule(deps, session.userId, parsePushRuleKind(params.kind!), params.ruleId!);
      return { enabled: rule.enabled };
    },
  });

  // PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/enabled
  route(app, {
    method: "PUT",
    paths: clientPaths("/pushrules/global/:kind/:ruleId/enabled"),
    auth: "user",
    body: z.looseObject({ enabled: z.boolean() }),
    handler: async ({ deps, session, params, body }) => {
      await changePushRule(deps, session.userId, parsePushRuleKind(params.kind!), params.ruleId!, { enabled: body.enabled });
      return {};
    },
  });

  // GET /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions
  route(app, {
    method: "GET",
    paths: clientPaths("/pushrules/global/:kind/:ruleId/actions"),
    auth: "user",
    handler: async ({ deps, session, params }) => {
      const rule = await getPushRule(deps, session.userId, parsePushRuleKind(params.kind!), params.ruleId!);
      return { actions: rule.actions };
    },
  });

  // PUT /_matrix/client/v3/pushrules/global/{kind}/{ruleId}/actions
  route(app, {
    method: "PUT",
    paths: clientPaths("/pushrules/global/:kind/:ruleId/actions"),
    auth: "user",
    body: z.looseObject({ actions }),
    handler: async ({ deps, session, params, body }) => {
      await changePushRule(deps, session.userId, parsePushRuleKind(params.kind!), params.ruleId!, { actions: body.actions as PushAction[] });
      return {};
    },
  });
}
