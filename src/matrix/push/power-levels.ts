/**
 * The `sender_notification_permission` lookup from a room's state: the sender's level and the
 * `notifications` levels of `m.room.power_levels`, read as the room version reads power levels
 * (including v12's creators, who outrank everyone).
 */
import type { JsonObject } from "../canonical-json";
import type { RoomEvent } from "../events";
import type { RoomVersion } from "../room-versions";
import { parsePowerLevels, userLevelIn } from "../auth/power-levels";
import type { NotificationPowerLookup } from "./conditions";

export function notificationPowerFromState(
  powerLevelsContent: JsonObject | undefined,
  create: RoomEvent | undefined,
  version: RoomVersion,
  sender: string,
): NotificationPowerLookup {
  // Lenient: a room whose power levels partly fail to parse still has the values that did.
  const levels = powerLevelsContent ? parsePowerLevels(powerLevelsContent, version).levels : undefined;
  return {
    senderLevel: () => userLevelIn(sender, levels, create, version),
    notificationLevel: (key) => levels?.notifications.get(key),
  };
}
