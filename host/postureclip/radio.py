"""A virtual Bluetooth LE radio: bumble's software controllers on a shared, breakable air.

Each device gets a controller that a real Bluetooth host drives over HCI: MicroPython's NimBLE
(the unix port, through an H4 UART on a pty), bumble's own host in this process (the central
of tests and of ``BumbleTransport``), or a host in another process over HCI on TCP.

What the air models, beyond bumble's ``LocalLink``:

* **Connection events.** Every ``interval_s`` each connection exchanges at most
  ``pdus_per_event`` link-layer PDUs each way (ACL fragments and LL control PDUs, in order).
  A sender's controller reports a packet completed (HCI Number Of Completed Packets) only
  when it has been delivered, so a host that sends faster than the link fills its controller
  buffers and then its own: NimBLE's ``gatts_notify`` raises ``OSError(ENOMEM)`` as on a chip.
* **Faults.** A connection event fails with probability ``event_loss`` (its PDUs are
  retransmitted in a later event: delayed, never lost or reordered, as the link layer does);
  ``outage(s)`` fails every event for a while; a link whose events all fail for
  ``supervision_timeout_s`` is lost on both sides (reason 0x08, connection timeout), as is a
  link whose peer vanished (its process died or its controller was closed).

And the behaviour NimBLE needs that bumble 0.0.236's controller lacks: legacy advertising
reports only (no extended-advertising feature), scan responses with the advertiser's scan
response data and only to active scanners, the advertising PDU type the host asked for, an
HCI Reset that resets, a cancelled connection attempt that completes, data handed to the host
in fragments no longer than the controller's data length, a data length of 251 octets, and
a resolving list that resolves (bumble accepts the commands and ignores them): a bonded
central's resolvable private address reaches the host as its identity address in an LE
Enhanced Connection Complete event, as an ESP32's controller does, so the clip finds the bond
of a phone or laptop that changed its address.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections import deque
from collections.abc import Iterable
from typing import Any

from bumble import hci, ll
from bumble.controller import Connection, Controller, LegacyAdvertiser
from bumble.link import LocalLink
from bumble.smp import AddressResolver
from bumble.transport import open_transport
from bumble.transport.common import Transport

log = logging.getLogger(__name__)

# Legacy advertising PDU types (HCI LE Set Advertising Parameters' advertising_type)
ADV_IND = 0
ADV_DIRECT_IND_HIGH = 1
ADV_SCAN_IND = 2
ADV_NONCONN_IND = 3
ADV_DIRECT_IND_LOW = 4
CONNECTION_TIMEOUT = 0x08  # HCI error: the link supervision timeout expired
DATA_LENGTH = 251  # LE Data Length Extension: one 247-byte ATT PDU + L2CAP header per PDU


@dataclasses.dataclass
class LegacyAdvPdu(ll.AdvInd):
    """An advertising PDU that says what kind it is and carries the advertiser's scan
    response (a scanner gets it only when it scans actively and the kind is scannable)."""

    adv_type: int = ADV_IND
    scan_response: bytes = b""


class _Advertiser(LegacyAdvertiser):
    def send_advertising_data(self) -> None:
        if not self.enabled:
            return
        if self.advertising_type in (ADV_DIRECT_IND_HIGH, ADV_DIRECT_IND_LOW):
            return  # directed advertising is not modelled; nothing here uses it
        self.controller.send_advertising_pdu(LegacyAdvPdu(
            advertiser_address=self.address, data=self.advertising_data,
            adv_type=self.advertising_type, scan_response=self.scan_response_data))


@dataclasses.dataclass
class _Channel:
    """One direction of one connection: PDUs waiting for a connection event. Bound to the
    two ``Connection`` objects, so a later link between the same addresses never receives
    what was queued for an earlier one."""

    sender: VirtualController
    self_address: hci.Address
    peer_address: hci.Address
    connection: Connection | None = None  # the sender's side
    peer_connection: Connection | None = None  # the receiver's side, once seen
    pending: deque[tuple[str, Any]] = dataclasses.field(default_factory=deque)


class VirtualController(Controller):
    """bumble's controller, corrected where NimBLE needs it (see the module docstring)."""

    le_features = (
        hci.LeFeatureMask.LE_ENCRYPTION
        | hci.LeFeatureMask.CONNECTION_PARAMETERS_REQUEST_PROCEDURE
        | hci.LeFeatureMask.EXTENDED_REJECT_INDICATION
        | hci.LeFeatureMask.PERIPHERAL_INITIATED_FEATURE_EXCHANGE
        | hci.LeFeatureMask.LE_PING
        | hci.LeFeatureMask.LE_DATA_PACKET_LENGTH_EXTENSION
        | hci.LeFeatureMask.LL_PRIVACY
        | hci.LeFeatureMask.EXTENDED_SCANNER_FILTER_POLICIES
    )
    le_acl_data_packet_length = DATA_LENGTH
    acl_data_packet_length = DATA_LENGTH
    total_num_le_acl_data_packets = 12  # an ESP32's controller buffers about this many
    supported_max_tx_octets = DATA_LENGTH
    supported_max_rx_octets = DATA_LENGTH
    suggested_max_tx_octets = DATA_LENGTH
    link: Air

    def __init__(self, name: str, air: Air, public_address: str | None = None,
                 host_source: Any = None, host_sink: Any = None) -> None:
        super().__init__(name, host_source=host_source, host_sink=host_sink, link=air,
                         public_address=public_address)
        self.le_legacy_advertiser = _Advertiser(self)
        # the resolving list (identity address -> IRK): bumble accepts the commands and does
        # nothing; an ESP32's controller resolves a bonded central's private addresses
        self.resolving_list: dict[tuple[int, bytes], tuple[bytes, hci.Address]] = {}

    # --- privacy: the resolving list -------------------------------------------------------
    def on_hci_le_add_device_to_resolving_list_command(self, command: Any) -> Any:
        key = (command.peer_identity_address_type, bytes(command.peer_identity_address))
        if key not in self.resolving_list and len(self.resolving_list) >= \
                self.resolving_list_size:
            return hci.HCI_StatusReturnParameters(
                hci.HCI_ErrorCode.MEMORY_CAPACITY_EXCEEDED_ERROR)
        self.resolving_list[key] = (bytes(command.peer_irk), command.peer_identity_address)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    def on_hci_le_remove_device_from_resolving_list_command(self, command: Any) -> Any:
        key = (command.peer_identity_address_type, bytes(command.peer_identity_address))
        if self.resolving_list.pop(key, None) is None:
            return hci.HCI_StatusReturnParameters(
                hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR)
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    def on_hci_le_clear_resolving_list_command(self, command: Any) -> Any:
        self.resolving_list.clear()
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    def _resolved(self, address: hci.Address) -> hci.Address | None:
        """The identity behind a resolvable private ``address`` (resolution enabled)."""
        if not (self.le_address_resolution and address.is_resolvable and self.resolving_list):
            return None
        # an all-zero peer IRK marks an entry for the local address only (NimBLE adds one):
        # it resolves nobody (Core spec, Vol 6, Part B, 4.7)
        keys = [(irk, identity) for irk, identity in self.resolving_list.values() if any(irk)]
        return AddressResolver(keys).resolve(address) if keys else None

    # --- host -> controller ------------------------------------------------------------
    def on_hci_packet(self, packet: hci.HCI_Packet) -> None:
        self.link.note(self.name, "<", packet)
        super().on_hci_packet(packet)

    def on_hci_acl_data_packet(self, packet: hci.HCI_AclDataPacket) -> None:
        connection = self.find_le_connection_by_handle(packet.connection_handle)
        if connection is None:
            log.debug("%s: ACL data for unknown handle %#x", self.name, packet.connection_handle)
            return
        self.link.queue_pdu(self, connection, "acl", packet)

    def on_hci_reset_command(self, command: hci.HCI_Reset_Command) -> Any:
        # A host that restarts (or a process killed mid-connection) leaves nothing behind:
        # connections vanish (the peer times out), advertising, scanning and pending
        # connection attempts stop.
        self.le_legacy_advertiser.stop()
        self.le_scan_enable = False
        self.pending_le_connection = None
        self.link.drop_connections(self)
        self.le_connections.clear()
        return super().on_hci_reset_command(command)

    def on_hci_disconnect_command(self, command: hci.HCI_Disconnect_Command) -> None:
        if self.find_le_connection_by_handle(command.connection_handle) is None:
            # a link that is already gone: a real controller says so at once (bumble would
            # answer "pending" and never complete, leaving the host waiting for ever)
            self._send_hci_command_status(
                hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR, command.op_code)
            return None
        return super().on_hci_disconnect_command(command)

    def on_hci_le_create_connection_cancel_command(self, command: Any) -> Any:
        pending = self.pending_le_connection
        self.pending_le_connection = None
        if pending is None:
            return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.COMMAND_DISALLOWED_ERROR)

        def complete() -> None:
            self.send_hci_packet(hci.HCI_LE_Connection_Complete_Event(
                status=hci.HCI_ErrorCode.UNKNOWN_CONNECTION_IDENTIFIER_ERROR,
                connection_handle=0, role=hci.Role.CENTRAL,
                peer_address_type=pending.peer_address.address_type,
                peer_address=pending.peer_address, connection_interval=0,
                peripheral_latency=0, supervision_timeout=0, central_clock_accuracy=0))

        asyncio.get_running_loop().call_soon(complete)  # after the Command Complete
        return hci.HCI_StatusReturnParameters(hci.HCI_ErrorCode.SUCCESS)

    # --- controller -> host ------------------------------------------------------------
    def send_hci_packet(self, packet: hci.HCI_Packet) -> None:
        self.link.note(self.name, ">", packet)
        if isinstance(packet, hci.HCI_LE_Connection_Complete_Event) and packet.status == 0:
            # bumble reports placeholder parameters; say what the air actually runs
            packet.connection_interval = round(self.link.interval_s / 0.00125)
            packet.supervision_timeout = round(self.link.supervision_timeout_s / 0.01)
            identity = self._resolved(packet.peer_address)
            if identity is not None:  # a bonded central's private address: say who it is
                packet = hci.HCI_LE_Enhanced_Connection_Complete_Event(
                    status=packet.status, connection_handle=packet.connection_handle,
                    role=packet.role, peer_address_type=identity.address_type,
                    peer_address=identity, local_resolvable_private_address=hci.Address.ANY,
                    peer_resolvable_private_address=packet.peer_address,
                    connection_interval=packet.connection_interval,
                    peripheral_latency=packet.peripheral_latency,
                    supervision_timeout=packet.supervision_timeout,
                    central_clock_accuracy=packet.central_clock_accuracy)
        super().send_hci_packet(packet)

    def on_advertising_pdu(self, pdu: Any) -> None:
        if not isinstance(pdu, LegacyAdvPdu):
            super().on_advertising_pdu(pdu)
            return
        if self.le_scan_enable:
            kind = hci.HCI_LE_Advertising_Report_Event.EventType
            event_type = {ADV_IND: kind.ADV_IND, ADV_SCAN_IND: kind.ADV_SCAN_IND,
                          ADV_NONCONN_IND: kind.ADV_NONCONN_IND}[pdu.adv_type]
            reports = [(event_type, pdu.data)]
            if self.le_scan_type == 1 and pdu.adv_type in (ADV_IND, ADV_SCAN_IND):
                reports.append((kind.SCAN_RSP, pdu.scan_response))
            for event, data in reports:
                self.send_hci_packet(hci.HCI_LE_Advertising_Report_Event([
                    hci.HCI_LE_Advertising_Report_Event.Report(
                        event_type=event, address_type=pdu.advertiser_address.address_type,
                        address=pdu.advertiser_address, data=data, rssi=-50)]))
        pending = self.pending_le_connection
        if (pending is not None and pdu.adv_type == ADV_IND
                and pending.peer_address == pdu.advertiser_address):
            self.create_le_connection(pdu.advertiser_address)

    def deliver_acl(self, connection: Connection, data: bytes, first: bool) -> None:
        """One link-layer PDU of ``connection`` reached this controller: up to the host."""
        pb = 0b10 if first else 0b01  # first automatically flushable / continuing fragment
        self.send_hci_packet(hci.HCI_AclDataPacket(connection.handle, pb, 0, len(data), data))

    def completed(self, connection: Connection) -> None:
        self.send_hci_packet(hci.HCI_Number_Of_Completed_Packets_Event(
            connection_handles=[connection.handle], num_completed_packets=[1]))


class Air(LocalLink):
    """The medium the controllers share (see the module docstring). All times in seconds."""

    def __init__(self, interval_s: float = 0.015, pdus_per_event: int = 4,
                 supervision_timeout_s: float = 2.0, seed: int | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # bumble's LocalLink
        self.interval_s = interval_s
        self.pdus_per_event = pdus_per_event
        self.supervision_timeout_s = supervision_timeout_s
        self.event_loss = 0.0
        self.rng = random.Random(seed)
        self._outage_until = 0.0
        self._channels: dict[tuple[Any, ...], _Channel] = {}
        self._last_good: dict[frozenset[tuple[int, int]], float] = {}
        self._orphaned: dict[int, float] = {}  # id(connection) -> since when it has no peer
        self._ticker: asyncio.Task[None] | None = None
        self.events_lost = 0  # counters for tests and benchmarks
        self.links_lost = 0
        self.errors = 0  # exceptions in the air's own code (a test asserts there are none)
        # diagnostics: with ``trace`` a deque, the HCI commands and events of every controller
        # on this air (not ACL data) as (time, controller, direction, name); None: off
        self.trace: deque[tuple[float, str, str, str]] | None = None

    def note(self, controller: str, direction: str, packet: hci.HCI_Packet) -> None:
        if self.trace is None or isinstance(packet, hci.HCI_AclDataPacket):
            return
        name = getattr(packet, "name", type(packet).__name__)
        if isinstance(packet, hci.HCI_Command_Complete_Event | hci.HCI_Command_Status_Event):
            return  # the command itself is noted; its completion adds little
        if name in ("HCI_NUMBER_OF_COMPLETED_PACKETS_EVENT", "HCI_LE_ADVERTISING_REPORT_EVENT"):
            return
        extra = ""
        handle = getattr(packet, "connection_handle", None)
        if handle is not None:
            extra = f" handle {handle}"
        enable = getattr(packet, "advertising_enable", None)
        if enable is not None:
            extra += f" enable {enable}"
        self.trace.append((asyncio.get_running_loop().time(), controller, direction,
                           name + extra))

    # --- faults --------------------------------------------------------------------------
    def outage(self, seconds: float) -> None:
        """Every connection event fails for ``seconds`` (longer than the supervision time-out:
        every link is lost)."""
        self._outage_until = asyncio.get_running_loop().time() + seconds

    def drop_connections(self, controller: Controller) -> None:
        """``controller`` stopped answering (reset, closed, its host died): its peers lose
        their links after the supervision time-out; its own connections are forgotten."""
        loop = asyncio.get_running_loop()
        for connection in list(controller.le_connections.values()):
            peer = self._peer(connection)
            if peer is not None:
                peer_controller, peer_connection = peer
                loop.call_later(self.supervision_timeout_s, self._time_out,
                                peer_controller, peer_connection)
        for key in [k for k, ch in self._channels.items() if ch.sender is controller]:
            del self._channels[key]

    def remove_controller(self, controller: Controller) -> None:
        self.drop_connections(controller)
        controller.le_connections.clear()
        super().remove_controller(controller)

    def _time_out(self, controller: Controller, connection: Connection) -> None:
        for key in [k for k, ch in self._channels.items()
                    if connection in (ch.connection, ch.peer_connection)]:
            del self._channels[key]  # what was in flight on a lost link is gone with it
        if controller.le_connections.get(connection.peer_address) is connection:
            self.links_lost += 1
            controller.on_le_disconnected(connection, CONNECTION_TIMEOUT)

    # --- bumble's link interface -----------------------------------------------------------
    def send_ll_control_pdu(self, sender_address: hci.Address, receiver_address: hci.Address,
                            packet: ll.ControlPdu) -> None:
        for c in self.controllers:
            for connection in c.le_connections.values():
                if (connection.self_address == sender_address
                        and connection.peer_address == receiver_address):
                    self.queue_pdu(c, connection, "ctl", packet)  # in order with the data
                    return
        # the sender already forgot the connection (it sent LL_TERMINATE_IND): still on air
        sender = self.find_le_controller(sender_address)
        if isinstance(sender, VirtualController):
            key = (id(sender), sender_address, receiver_address)
            self._channels.setdefault(key, _Channel(sender, sender_address, receiver_address)
                                      ).pending.append(("ctl", packet))
            self._ensure_ticker()
        else:
            super().send_ll_control_pdu(sender_address, receiver_address, packet)

    def queue_pdu(self, sender: Controller, connection: Connection, kind: str,
                  item: Any) -> None:
        if not isinstance(sender, VirtualController):
            raise TypeError("the air carries only VirtualController links")
        key = (id(sender), id(connection))  # the channel holds the connection: ids stay unique
        channel = self._channels.get(key)
        if channel is None:
            channel = self._channels[key] = _Channel(sender, connection.self_address,
                                                     connection.peer_address, connection)
        channel.pending.append((kind, item))
        self._ensure_ticker()

    # --- connection events ---------------------------------------------------------------
    def _ensure_ticker(self) -> None:
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def _peer(self, connection: Connection) -> tuple[Controller, Connection] | None:
        for c in self.controllers:
            peer_connection = c.le_connections.get(connection.self_address)
            if (peer_connection is not None and peer_connection is not connection
                    and peer_connection.self_address == connection.peer_address):
                return c, peer_connection
        return None

    def _links(self) -> Iterable[tuple[Controller, Connection]]:
        for c in list(self.controllers):
            for connection in list(c.le_connections.values()):
                yield c, connection

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                if not self._event():
                    return  # no connection: the ticker restarts with the next PDU
            except Exception:  # a radio that stops would hang every link: count, log, go on
                self.errors += 1
                log.exception("virtual radio: connection event failed")

    def _event(self) -> bool:
        """One round of connection events; False when there is nothing left to run."""
        now = asyncio.get_running_loop().time()
        links = list(self._links())
        if not links and not any(ch.pending for ch in self._channels.values()):
            self._last_good.clear()
            self._orphaned.clear()
            return False
        failed: set[frozenset[tuple[int, int]]] = set()
        for c, connection in links:
            peer = self._peer(connection)
            if peer is None:
                # the other side is gone without a word (its LL_TERMINATE_IND was lost
                # with its radio, or it never completed): supervision time-out
                since = self._orphaned.setdefault(id(connection), now)
                if now - since >= self.supervision_timeout_s:
                    del self._orphaned[id(connection)]
                    self._time_out(c, connection)
                continue
            self._orphaned.pop(id(connection), None)
            pair = frozenset({(id(c), connection.handle), (id(peer[0]), peer[1].handle)})
            if pair in failed or (pair in self._last_good and self._last_good[pair] == now):
                continue
            if now < self._outage_until or self.rng.random() < self.event_loss:
                self.events_lost += 1
                failed.add(pair)
                since = self._last_good.setdefault(pair, now)
                if now - since >= self.supervision_timeout_s:
                    self._last_good.pop(pair, None)
                    self._time_out(c, connection)
                    self._time_out(*peer)
                continue
            self._last_good[pair] = now
        for key, channel in list(self._channels.items()):
            self._service(key, channel, failed)
        return True

    def _service(self, key: tuple[Any, ...], channel: _Channel,
                 failed: set[frozenset[tuple[int, int]]]) -> None:
        sender = channel.sender
        connection = sender.le_connections.get(channel.peer_address)
        if channel.connection is not None and connection is not channel.connection:
            connection = None  # the sender's side of this link is gone
        receiver = self.find_le_controller(channel.peer_address)
        peer_connection = None
        if receiver is not None:
            peer_connection = receiver.le_connections.get(channel.self_address)
            if channel.peer_connection is None:
                channel.peer_connection = peer_connection
            elif peer_connection is not channel.peer_connection:
                peer_connection = None  # a newer link between the same addresses
        if connection is not None and peer_connection is not None and failed and frozenset(
                {(id(sender), connection.handle),
                 (id(receiver), peer_connection.handle)}) in failed:
            return  # this event failed: everything waits for the next one
        for _ in range(self.pdus_per_event):
            if not channel.pending:
                break
            kind, item = channel.pending.popleft()
            if kind == "ctl":
                if isinstance(receiver, Controller):
                    receiver.on_ll_control_pdu(channel.self_address, item)
                continue
            if connection is not None:
                sender.completed(connection)
            if isinstance(receiver, VirtualController) and peer_connection is not None:
                receiver.deliver_acl(peer_connection, item.data, item.pb_flag in (0b00, 0b10))
        if not channel.pending and connection is None:
            self._channels.pop(key, None)


async def open_controller(air: Air, spec: str, name: str,
                          public_address: str | None = None
                          ) -> tuple[VirtualController, Transport]:
    """A controller on the air whose host talks HCI through bumble transport ``spec``
    (``pty:PATH`` for MicroPython's H4 UART, ``tcp-server:127.0.0.1:PORT`` for a host in
    another process)."""
    transport = await open_transport(spec)
    controller = VirtualController(name, air, public_address=public_address,
                                   host_source=transport.source, host_sink=transport.sink)
    return controller, transport


async def close_controller(air: Air, controller: VirtualController,
                           transport: Transport) -> None:
    air.remove_controller(controller)
    with contextlib.suppress(Exception):
        await transport.close()


async def serve(ptys: list[str], tcp_ports: list[int], interval_s: float,
                pdus_per_event: int, ready: str | None = None) -> None:
    """Run an air with a controller on each pty (for MicroPython instances) and each TCP port
    (for bumble hosts in other processes) until cancelled. Controller i has the public
    address C0:00:00:00:00:<i+1>."""
    air = Air(interval_s=interval_s, pdus_per_event=pdus_per_event)
    specs = [f"pty:{p}" for p in ptys] + [f"tcp-server:127.0.0.1:{p}" for p in tcp_ports]
    for i, spec in enumerate(specs):
        await open_controller(air, spec, f"C{i}", public_address=f"C0:00:00:00:00:{i + 1:02X}")
    if ready:
        print(ready, flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m postureclip.radio",
        description="A virtual Bluetooth LE radio: software controllers for MicroPython's "
                    "NimBLE (H4 on a pty) and bumble hosts (HCI on TCP), on one air.")
    parser.add_argument("--pty", action="append", default=[],
                        help="make a controller whose H4 UART is a pty linked at this path")
    parser.add_argument("--hci-tcp", type=int, action="append", default=[],
                        help="make a controller served as HCI on 127.0.0.1:PORT")
    parser.add_argument("--interval-ms", type=float, default=15.0,
                        help="connection interval (default 15)")
    parser.add_argument("--pdus-per-event", type=int, default=4,
                        help="link-layer PDUs each way per connection event (default 4)")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.pty, args.hci_tcp, args.interval_ms / 1000,
                          args.pdus_per_event, ready="radio ready"))


if __name__ == "__main__":
    main()
