/**
 * A gate controller at the station: the decision's command goes out through its driver (a text
 * line or a Modbus pulse), a text controller's feedback lines come back as 'feedback' events, and
 * a controller whose commands fail is reported `failing` until one succeeds — an open port whose
 * commands fail is no better than a closed one.
 */
import type { GateProfile } from '../config/device-profiles.js';
import type { Decision } from '../types.js';
import type { ControllerConfig } from './config.js';
import type { ControllerDriver } from './controller.js';
import type { TapEvent } from './events.js';
import { DelimiterFramer } from './framing/index.js';
import { wireLink, type Device, type DeviceContext } from './station-device.js';

export interface ControllerDevice extends Device {
  profile: GateProfile;
  driver: ControllerDriver;
  feedback: DelimiterFramer | undefined;
  /** Set from a failed command until one succeeds: the board (or its port) is not doing its job. */
  failing: { since: number; count: number } | undefined;
}

export function wireController(device: ControllerDevice, ctx: DeviceContext): void {
  wireLink(device, ctx);
  device.link.on('open', (port) => {
    device.driver.attach(port);
    const fb = device.profile.protocol === 'text' ? device.profile.feedback : null;
    if (fb) {
      const framer = new DelimiterFramer({ delimiter: Buffer.from(fb.delimiter, 'latin1'), maxLength: fb.maxLength });
      framer.on('error', () => undefined);
      framer.on('data', (line: Buffer) => {
        // The key is what the board sent: a prototype's name (`constructor`) is no feedback line.
        const key = line.toString('latin1').trim();
        if (!Object.hasOwn(fb.lines, key)) return;
        const event = fb.lines[key]!;
        device.status.lastFeedback = event;
        ctx.emit('feedback', { controller: device.status.id, gates: [...device.status.gates], event });
      });
      device.feedback = framer;
    }
  });
  device.link.on('data', (chunk) => {
    device.driver.feed(chunk);
    device.feedback?.write(chunk);
  });
  device.link.on('closed', () => {
    device.driver.detach();
    device.feedback?.destroy();
    device.feedback = undefined;
  });
}

/** Sends the decision to the controller; a throw is a failed command (logged, counted), never a throw. */
export async function sendCommand(controller: ControllerDevice, target: ControllerConfig, decision: Decision, gate: string, ctx: DeviceContext): Promise<TapEvent['command']> {
  try {
    const result = await controller.driver.command(decision.verdict === 'pass' ? 'open' : 'deny', target, decision.reason);
    if (result === 'sent') {
      controller.status.count += 1;
      commandSucceeded(controller, ctx);
    }
    return result;
  } catch (err) {
    controller.status.lastCommandError = (err as Error).message;
    ctx.log?.error({ gate, controller: controller.status.id, verdict: decision.verdict, err }, 'gate command failed');
    commandFailed(controller, ctx);
    return 'failed';
  }
}

function commandFailed(controller: ControllerDevice, ctx: DeviceContext): void {
  if (controller.failing !== undefined) {
    controller.failing.count += 1;
    return;
  }
  controller.failing = { since: ctx.clock(), count: 1 };
  const { id, role, path } = controller.status;
  ctx.log?.warn({ device: id, path, error: controller.status.lastCommandError }, 'gate controller failing: its commands fail or time out');
  ctx.emit('device', { id, role, path, state: 'failing', ...(controller.status.lastCommandError === undefined ? {} : { error: controller.status.lastCommandError }) });
}

function commandSucceeded(controller: ControllerDevice, ctx: DeviceContext): void {
  if (controller.failing === undefined) return;
  controller.failing = undefined;
  const { id, role, path } = controller.status;
  ctx.log?.info({ device: id, path }, 'gate controller answering again');
  ctx.emit('device', { id, role, path, state: controller.link.status().state });
}
