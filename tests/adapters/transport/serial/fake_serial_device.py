#!/usr/bin/python3
"""A serial device in a process of its own, for serial_tests.

Plays a SAM ID-card reader (answers find / select / read) and a serial
scanner (writes lines) on a pseudo-terminal whose slave is reachable through
a symlink, the way /dev/serial/by-id links are. Frames and the card's text
block are built here from DOMAIN.md section 2, independently of the C++
codec, so the test also checks the codec against the spec.

Standard library only. Control lines on stdin, one per line:
  place NUMBER NAME      put a resident card on the reader (synthetic data
                         from the test: an 18-character number, a UTF-8 name)
  lift                   take it away
  slow MS                from now on write every byte MS milliseconds apart
  cut-next-read N        write only N bytes of the next read reply, wait
                         until the host has read them, then unplug
  unplug                 close the pty and remove the link
  plug                   a new pty behind the link
  scan TEXT              write TEXT + CR LF (at the current pace)
  quit
Reports on stdout, one per line: ready, plugged, unplugged, find, select,
read, cut, bad-command.
"""

import argparse
import datetime
import fcntl
import os
import select
import struct
import sys
import termios
import time
import tty

PREAMBLE = bytes([0xAA, 0xAA, 0xAA, 0x96, 0x69])


def report(what):
    try:
        sys.stdout.write(what + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        os._exit(0)  # the test is gone


def frame(body):
    length = struct.pack(">H", len(body) + 1)
    chk = 0
    for b in length + body:
        chk ^= b
    return PREAMBLE + length + body + bytes([chk])


def reply(sw3, data=b""):
    return frame(bytes([0x00, 0x00, sw3]) + data)


def ucs2(text, width):
    raw = text.encode("utf-16-le")[:width]
    return raw + b"\x20\x00" * ((width - len(raw)) // 2)


def card_text(number, name):
    today = datetime.date.today()
    birth = number[6:14]
    sex = "1" if int(number[16]) % 2 == 1 else "2"
    valid_from = today.replace(year=today.year - 1)
    valid_to = valid_from.replace(year=valid_from.year + 20)
    block = (ucs2(name, 30) + ucs2(sex, 2) + ucs2("01", 4) + ucs2(birth, 16) +
             ucs2("测试路1号", 70) + ucs2(number, 36) + ucs2("测试公安局", 30) +
             ucs2(valid_from.strftime("%Y%m%d"), 16) +
             ucs2(valid_to.strftime("%Y%m%d"), 16) + ucs2("", 36))
    assert len(block) == 256
    return block


class Device:
    def __init__(self, link):
        self.link = link
        self.master = None
        self.slave = None
        self.inbuf = b""
        self.card = None
        self.pace = 0.0
        self.cut_next_read = None

    def plug(self):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo before the host sets its own mode
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(self.slave), self.link)
        report("plugged")

    def unplug(self):
        if self.master is None:
            return
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = None
        self.inbuf = b""
        if os.path.lexists(self.link):
            os.unlink(self.link)
        report("unplugged")

    def unread(self):
        buf = fcntl.ioctl(self.slave, termios.FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]

    def write(self, data):
        if self.pace <= 0:
            os.write(self.master, data)
            return
        for i in range(len(data)):
            os.write(self.master, data[i:i + 1])
            time.sleep(self.pace)

    def on_input(self):
        try:
            chunk = os.read(self.master, 4096)
        except OSError:
            return
        self.inbuf += chunk
        while True:
            start = self.inbuf.find(PREAMBLE)
            if start < 0 or len(self.inbuf) < start + 7:
                return
            length = struct.unpack(">H", self.inbuf[start + 5:start + 7])[0]
            end = start + 7 + length
            if len(self.inbuf) < end:
                return
            body = self.inbuf[start + 7:end - 1]
            self.inbuf = self.inbuf[end:]
            self.answer(body)
            if self.master is None:
                return

    def answer(self, body):
        cmd, para = body[0], body[1]
        if (cmd, para) == (0x20, 0x01):
            report("find")
            self.write(reply(0x9F, b"\0\0\0\0") if self.card else reply(0x80))
        elif (cmd, para) == (0x20, 0x02):
            report("select")
            self.write(reply(0x90, bytes(range(1, 9))) if self.card else reply(0x81))
        elif cmd == 0x30:
            report("read")
            if not self.card:
                self.write(reply(0x41))
                return
            photo = bytes((i * 7) & 0xFF for i in range(1024))
            data = struct.pack(">HH", 256, 1024) + self.card + photo
            out = reply(0x90, data)
            if self.cut_next_read is not None:
                self.write(out[:self.cut_next_read])
                self.cut_next_read = None
                # The host must have read the half frame before the line
                # drops, or the hang-up could discard it.
                deadline = time.monotonic() + 5
                while self.unread() > 0 and time.monotonic() < deadline:
                    time.sleep(0.001)
                report("cut")
                self.unplug()
                return
            self.write(out)
        else:
            report("bad-command")
            self.write(reply(0x21))

    def control(self, line):
        words = line.split(" ", 2)
        op = words[0]
        if op == "place":
            self.card = card_text(words[1], words[2])
        elif op == "lift":
            self.card = None
        elif op == "slow":
            self.pace = int(words[1]) / 1000.0
        elif op == "cut-next-read":
            self.cut_next_read = int(words[1])
        elif op == "unplug":
            self.unplug()
        elif op == "plug":
            self.plug()
        elif op == "scan":
            self.write(line[len("scan "):].encode("utf-8") + b"\r\n")
        elif op == "quit":
            return False
        return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--link", required=True)
    args = parser.parse_args()
    dev = Device(args.link)
    dev.plug()
    report("ready")
    stdin = sys.stdin.fileno()
    pending = b""
    while True:
        fds = [stdin] + ([dev.master] if dev.master is not None else [])
        readable, _, _ = select.select(fds, [], [], 1.0)
        if dev.master is not None and dev.master in readable:
            dev.on_input()
        if stdin in readable:
            data = os.read(stdin, 4096)
            if not data:
                break
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if not dev.control(line.decode("utf-8")):
                    dev.unplug()
                    return 0
    dev.unplug()
    return 0


if __name__ == "__main__":
    sys.exit(main())
