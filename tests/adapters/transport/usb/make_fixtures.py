#!/usr/bin/python3
"""Regenerates the umockdev fixtures of the USB transport tests.

Everything here is synthetic: descriptors written by hand, HID boot-keyboard
reports typed from barcode strings, SAM frames built from DOMAIN.md section 2,
and an identity whose number gets its GB 11643 check digit computed here.
No real person, no real recording.

    tests/adapters/transport/usb/make_fixtures.py [--check]

writes tests/adapters/transport/usb/fixtures/*; with --check it only says
whether the checked-in files are current (exit 1 if not).
"""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "fixtures"

# ---------------------------------------------------------------- descriptors


def le16(v):
    return bytes([v & 0xFF, v >> 8])


def device_descriptor(vid, pid, with_serial):
    return bytes([18, 1]) + le16(0x0200) + bytes([0, 0, 0, 64]) + le16(vid) + le16(pid) + \
        le16(0x0100) + bytes([1, 2, 3 if with_serial else 0, 1])


def endpoint(addr, attr, maxp, interval):
    return bytes([7, 5, addr, attr]) + le16(maxp) + bytes([interval])


def configuration(interface_and_more):
    total = 9 + len(interface_and_more)
    return bytes([9, 2]) + le16(total) + bytes([1, 1, 0, 0x80, 50]) + interface_and_more


def hid_keyboard_descriptors(vid, pid, with_serial):
    itf = bytes([9, 4, 0, 0, 1, 3, 1, 1, 0])
    hid = bytes([9, 0x21]) + le16(0x0110) + bytes([0, 1, 0x22]) + le16(63)
    return device_descriptor(vid, pid, with_serial) + configuration(
        itf + hid + endpoint(0x81, 0x03, 8, 10))


def bulk_reader_descriptors(vid, pid, with_serial):
    itf = bytes([9, 4, 0, 0, 2, 0xFF, 0, 0, 0])
    return device_descriptor(vid, pid, with_serial) + configuration(
        itf + endpoint(0x02, 0x02, 64, 0) + endpoint(0x81, 0x02, 64, 0))


def umockdev_file(port, bus, dev, vid, pid, serial, descriptors, product):
    lines = [
        f"P: /devices/pci0000:00/0000:00:14.0/usb{bus}/{port}",
        f"N: bus/usb/{bus:03d}/{dev:03d}={descriptors.hex().upper()}",
        f"E: DEVNAME=/dev/bus/usb/{bus:03d}/{dev:03d}",
        "E: DEVTYPE=usb_device",
        "E: DRIVER=usb",
        f"E: PRODUCT={vid:x}/{pid:x}/100",
        f"E: BUSNUM={bus:03d}",
        f"E: DEVNUM={dev:03d}",
        "E: SUBSYSTEM=usb",
        "A: bConfigurationValue=1",
        "A: bNumConfigurations=1",
        "A: bNumInterfaces= 1",
        f"A: busnum={bus}",
        f"A: devnum={dev}",
        f"A: devpath={port.split('-', 1)[1]}",
        f"A: idVendor={vid:04x}",
        f"A: idProduct={pid:04x}",
        "A: manufacturer=postgate test",
        f"A: product={product}",
        "A: speed=12",
    ]
    if serial:
        lines.append(f"A: serial={serial}")
    lines.append(f"H: descriptors={descriptors.hex().upper()}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HID boot keyboard

SHIFT = 0x02


def key_for(ch):
    if "a" <= ch <= "z":
        return 0, 0x04 + ord(ch) - ord("a")
    if "A" <= ch <= "Z":
        return SHIFT, 0x04 + ord(ch) - ord("A")
    if "1" <= ch <= "9":
        return 0, 0x1E + ord(ch) - ord("1")
    table = {"0": (0, 0x27), "\n": (0, 0x28), "\t": (0, 0x2B), "-": (0, 0x2D), ":": (SHIFT, 0x33),
             " ": (0, 0x2C), ".": (0, 0x37), "/": (0, 0x38), "<": (SHIFT, 0x36)}
    return table[ch]


def keyboard_reports(text):
    out = []
    for ch in text:
        mod, code = key_for(ch)
        out.append(bytes([mod, 0, code, 0, 0, 0, 0, 0]))
        out.append(bytes(8))
    return out


def interrupt_ioctl(node, reports):
    lines = [f"@DEV {node}"]
    for r in reports:
        lines.append(f"USBDEVFS_REAPURBNDELAY 0 1 129 0 0 8 {len(r)} 0 {r.hex().upper()}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- HID POS (usage page 0x8C)

POS_CAPACITY = 56


def pos_reports(aim, data, report_id=0x02):
    """[report id][length][AIM id, 3][data, 56][continuation] (DOMAIN.md section 4)."""
    out = []
    raw = data.encode()
    while True:
        part, raw = raw[:POS_CAPACITY], raw[POS_CAPACITY:]
        r = bytes([report_id, len(part)]) + aim.encode() + part.ljust(POS_CAPACITY, b"\0") + \
            bytes([1 if raw else 0])
        out.append(r)
        if not raw:
            return out


def hid_pos_descriptors(vid, pid):
    itf = bytes([9, 4, 0, 0, 1, 3, 0, 0, 0])
    hid = bytes([9, 0x21]) + le16(0x0110) + bytes([0, 1, 0x22]) + le16(40)
    return device_descriptor(vid, pid, True) + configuration(
        itf + hid + endpoint(0x81, 0x03, 64, 1))


def pos_ioctl(node, reports):
    lines = [f"@DEV {node}"]
    for r in reports:
        lines.append(f"USBDEVFS_REAPURBNDELAY 0 1 129 0 0 64 {len(r)} 0 {r.hex().upper()}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- SAM frames (DOMAIN.md §2)

PREAMBLE = bytes([0xAA, 0xAA, 0xAA, 0x96, 0x69])


def xor(bs):
    c = 0
    for b in bs:
        c ^= b
    return c


def sam_command(cmd, para, data=b""):
    body = bytes([cmd, para]) + data
    length = le16_be(len(body) + 1)
    return PREAMBLE + length + body + bytes([xor(length + body)])


def sam_reply(sw3, data=b"", sw1=0, sw2=0):
    body = bytes([sw1, sw2, sw3]) + data
    length = le16_be(len(body) + 1)
    return PREAMBLE + length + body + bytes([xor(length + body)])


def le16_be(v):
    return bytes([v >> 8, v & 0xFF])


def gb11643_check(first17):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    s = sum(int(c) * w for c, w in zip(first17, weights))
    return "10X98765432"[s % 11]


def ucs2(text, size):
    b = text.encode("utf-16-le")
    assert len(b) <= size, text
    return b + b"\x20\x00" * ((size - len(b)) // 2)


# A synthetic resident: region 110105 is a real district code, but the
# person, the sequence number and hence the whole number are made up.
SYNTH_NUMBER17 = "11010519900307123"
SYNTH_NUMBER = SYNTH_NUMBER17 + gb11643_check(SYNTH_NUMBER17)


def card_text(number, valid_from="20200101", valid_to="20400101"):
    t = (ucs2("测试员", 30) + ucs2("1", 2) + ucs2("01", 4) + ucs2(number[6:14], 16) +
         ucs2("北京市朝阳区测试路1号", 70) + ucs2(number, 36) + ucs2("测试公安局", 30) +
         ucs2(valid_from, 16) + ucs2(valid_to, 16) + ucs2("", 36))
    assert len(t) == 256
    return t


def read_reply(text):
    photo = bytes(1024)
    data = le16_be(256) + le16_be(1024) + text + photo
    return sam_reply(0x90, data)


IN_SIZE = 4096  # size of every bulk IN transfer the idcard driver makes


def bulk_ioctl(node, exchanges):
    lines = [f"@DEV {node}"]
    for out, reply in exchanges:
        lines.append(f"USBDEVFS_REAPURBNDELAY 0 3 2 0 0 {len(out)} {len(out)} 0 {out.hex().upper()}")
        lines.append(
            f" USBDEVFS_REAPURBNDELAY 0 3 129 0 0 {IN_SIZE} {len(reply)} 0 {reply.hex().upper()}")
    return "\n".join(lines) + "\n"


def split_reader_descriptors(vid, pid):
    itf = bytes([9, 4, 0, 0, 4, 0xFF, 0, 0, 0])
    return device_descriptor(vid, pid, False) + configuration(
        itf + endpoint(0x02, 0x02, 64, 0) + endpoint(0x06, 0x02, 64, 0) +
        endpoint(0x81, 0x02, 64, 0) + endpoint(0x85, 0x02, 64, 0))


def bulk_ioctl_split(node, exchanges):
    """SAM_V style: frame head (preamble + length, 7 bytes) on OUT 0x02 / IN
    0x81, the rest on OUT 0x06 / IN 0x85. The driver reads the head with a
    4096-byte transfer and the body with the body length rounded up to 64."""
    lines = [f"@DEV {node}"]
    for out, reply in exchanges:
        head, body = out[:7], out[7:]
        lines.append(f"USBDEVFS_REAPURBNDELAY 0 3 2 0 0 7 7 0 {head.hex().upper()}")
        lines.append(f"USBDEVFS_REAPURBNDELAY 0 3 6 0 0 {len(body)} {len(body)} 0 {body.hex().upper()}")
        rhead, rbody = reply[:7], reply[7:]
        lines.append(f" USBDEVFS_REAPURBNDELAY 0 3 129 0 0 {IN_SIZE} 7 0 {rhead.hex().upper()}")
        size = max(64, (len(rbody) + 63) // 64 * 64)
        lines.append(f"  USBDEVFS_REAPURBNDELAY 0 3 133 0 0 {size} {len(rbody)} 0 {rbody.hex().upper()}")
    return "\n".join(lines) + "\n"


FIND = sam_command(0x20, 0x01)
SELECT = sam_command(0x20, 0x02)
READ = sam_command(0x30, 0x01)
assert FIND == bytes.fromhex("AAAAAA96690003200122"), FIND.hex()
FIND_OK = sam_reply(0x9F, bytes(4))
assert FIND_OK == bytes.fromhex("AAAAAA9669000800009F0000000097"), FIND_OK.hex()
NO_CARD = sam_reply(0x80)
SELECT_OK = sam_reply(0x90, bytes(8))

# ---------------------------------------------------------------- MRZ (ICAO 9303 TD3)


def mrz_value(ch):
    if ch.isdigit():
        return int(ch)
    if "A" <= ch <= "Z":
        return ord(ch) - ord("A") + 10
    return 0


def mrz_check(field):
    return str(sum(mrz_value(c) * w for c, w in zip(field, [7, 3, 1] * 20)) % 10)


def td3(surname, given, number, nationality, birth, sex, expiry):
    line1 = ("P<" + nationality + surname + "<<" + given).ljust(44, "<")
    num = number.ljust(9, "<")
    personal = "<" * 14
    parts = (num + mrz_check(num) + nationality + birth + mrz_check(birth) + sex + expiry +
             mrz_check(expiry) + personal + mrz_check(personal))
    composite = parts[0:10] + parts[13:20] + parts[21:43]
    line2 = parts + mrz_check(composite)
    assert len(line1) == 44 and len(line2) == 44
    return line1, line2


# A made-up traveller and passport number.
MRZ_LINES = td3("TESTER", "SAMPLE", "E01234567", "CHN", "900307", "M", "301231")

# ---------------------------------------------------------------- the fixture set

SCANNER_VID, SCANNER_PID = 0x05E0, 0x1200
READER_VID, READER_PID = 0x0400, 0xC35A


def fixtures():
    f = {}
    # Two identical scanners in ports 1-1 and 1-2, told apart by serial or port.
    for name, port, dev, serial, text in [
        ("scanner_a", "1-1", 2, "SCNA0001", "RA123456785GB\nPG:OK\n"),
        ("scanner_b", "1-2", 3, "SCNB0002", "9876543210\n"),
    ]:
        desc = hid_keyboard_descriptors(SCANNER_VID, SCANNER_PID, True)
        f[f"{name}.umockdev"] = umockdev_file(port, 1, dev, SCANNER_VID, SCANNER_PID, serial, desc,
                                              "Test Scanner")
        f[f"{name}.ioctl"] = interrupt_ioctl(f"/dev/bus/usb/001/{dev:03d}", keyboard_reports(text))
    # A scanner whose reports are garbage (rollover error, impossible codes,
    # short report) in a run that Enter ends, then a good scan.
    garbage = [bytes([0, 0, 1, 1, 1, 1, 1, 1]), bytes([0, 0, 0xE8, 0, 0, 0, 0, 0]), bytes(8),
               bytes([0, 0, 0x04])] + keyboard_reports("\nX1\n")
    f["scanner_garbage.ioctl"] = "@DEV /dev/bus/usb/001/002\n" + "".join(
        f"USBDEVFS_REAPURBNDELAY 0 1 129 0 0 8 {len(r)} 0 {r.hex().upper()}\n" for r in garbage)

    # A HID POS scanner (05e0:1300, port 1-5): a trigger report (ignored), a
    # long QR text in two continued reports, then a short code-128 scan.
    desc = hid_pos_descriptors(SCANNER_VID, 0x1300)
    f["scanner_pos.umockdev"] = umockdev_file("1-5", 1, 6, SCANNER_VID, 0x1300, "POS00001", desc,
                                              "Test POS Scanner")
    qr = "PG:WAYBILL:RA123456785GB:" + "0123456789" * 5
    f["scanner_pos.ioctl"] = pos_ioctl(
        "/dev/bus/usb/001/006",
        [bytes([0x14, 1])] + pos_reports("]Q1", qr) + pos_reports("]C0", "RA123456785GB"))

    # An MRZ reader typing a TD3 zone as a keyboard (the scanner_a device).
    f["mrz.ioctl"] = interrupt_ioctl("/dev/bus/usb/001/002",
                                     keyboard_reports(MRZ_LINES[0] + "\n" + MRZ_LINES[1] + "\n"))

    # The ID-card reader (bulk OUT 0x02 / IN 0x81) in port 1-3.
    desc = bulk_reader_descriptors(READER_VID, READER_PID, False)
    f["idcard.umockdev"] = umockdev_file("1-3", 1, 4, READER_VID, READER_PID, None, desc,
                                         "Test ID Reader")
    text = card_text(SYNTH_NUMBER)
    f["idcard.ioctl"] = bulk_ioctl("/dev/bus/usb/001/004", [
        (FIND, NO_CARD),
        (FIND, FIND_OK),
        (SELECT, SELECT_OK),
        (READ, read_reply(text)),
    ])
    # A SAM_V reader with split endpoints in port 1-4, same exchanges.
    desc = split_reader_descriptors(READER_VID, READER_PID)
    f["idcard_split.umockdev"] = umockdev_file("1-4", 1, 5, READER_VID, READER_PID, None, desc,
                                               "Test SAM_V Reader")
    f["idcard_split.ioctl"] = bulk_ioctl_split("/dev/bus/usb/001/005", [
        (FIND, NO_CARD),
        (FIND, FIND_OK),
        (SELECT, SELECT_OK),
        (READ, read_reply(text)),
    ])
    # Garbage: a find reply with a bad checksum, then a read reply whose
    # checksum is wrong (the session retries the read, then gives up).
    bad = bytearray(FIND_OK)
    bad[-1] ^= 0xFF
    bad_read = bytearray(read_reply(text))
    bad_read[-1] ^= 0xFF
    f["idcard_garbage.ioctl"] = bulk_ioctl("/dev/bus/usb/001/004", [
        (FIND, bytes(bad)),
        (FIND, FIND_OK),
        (SELECT, SELECT_OK),
        (READ, bytes(bad_read)),
    ])
    f["idcard_expected.txt"] = (
        "# what the idcard fixtures must decode to; the test adds the check digit\n"
        f"number17={SYNTH_NUMBER17}\n"
        f"mrz_number=E01234567\n")
    add_hid_idcard_fixtures(f)
    return f


# ---------------------------------------------------------------- SAM in HID reports

HID_REPORT = 64  # bytes per report on the wire, report id included


def hid_reader_descriptors(vid, pid, with_out_endpoint):
    """A HID-class SAM reader: interrupt IN 0x81 and, optionally, interrupt OUT 0x02."""
    itf = bytes([9, 4, 0, 0, 2 if with_out_endpoint else 1, 3, 0, 0, 0])
    hid = bytes([9, 0x21]) + le16(0x0110) + bytes([0, 1, 0x22]) + le16(34)
    eps = endpoint(0x81, 0x03, HID_REPORT, 1)
    if with_out_endpoint:
        eps += endpoint(0x02, 0x03, HID_REPORT, 1)
    return device_descriptor(vid, pid, False) + configuration(itf + hid + eps)


def hid_reports(frame, report_id=None):
    """The generic framing: [report id] + frame bytes + zero padding per report."""
    step = HID_REPORT - (1 if report_id is not None else 0)
    out = []
    for at in range(0, len(frame), step):
        r = (bytes([report_id]) if report_id is not None else b"") + frame[at:at + step]
        out.append(r.ljust(HID_REPORT, b"\0"))
    return out


def hid_ioctl(node, exchanges, report_id=None, set_report=False):
    """Each command as OUT reports (interrupt OUT 0x02, or SET_REPORT control
    requests: setup 21 09 <id> 02 0000 <len>), its reply as 64-byte interrupt
    IN reports under the last of them. An exchange's reply may be a list of
    ready-made reports (garbage, foreign report ids)."""
    lines = [f"@DEV {node}"]
    for out, reply in exchanges:
        for r in hid_reports(out, report_id):
            if set_report:
                setup = bytes([0x21, 0x09, report_id or 0, 0x02]) + le16(0) + le16(len(r))
                lines.append(f"USBDEVFS_REAPURBNDELAY 0 2 0 0 0 {8 + len(r)} {len(r)} 0 "
                             f"{(setup + r).hex().upper()}")
            else:
                lines.append(f"USBDEVFS_REAPURBNDELAY 0 1 2 0 0 {len(r)} {len(r)} 0 {r.hex().upper()}")
        reports = reply if isinstance(reply, list) else hid_reports(reply, report_id)
        for r in reports:
            lines.append(f" USBDEVFS_REAPURBNDELAY 0 1 129 0 0 {HID_REPORT} {len(r)} 0 {r.hex().upper()}")
    return "\n".join(lines) + "\n"


HID_READER_PID, HID_CTRL_READER_PID = 0xC35B, 0xC35C  # made-up ids of the synthetic readers


def add_hid_idcard_fixtures(f):
    text = card_text(SYNTH_NUMBER)
    cycle = [(FIND, NO_CARD), (FIND, FIND_OK), (SELECT, SELECT_OK), (READ, read_reply(text))]
    # A HID reader with interrupt OUT 0x02 / IN 0x81 in port 1-6, no report id:
    # the first reply comes after an idle (all-zero) report and starts 60
    # bytes into its report, so its preamble is split over two reports; the
    # read reply (1295 bytes) comes as 21 reports, the last one padded.
    desc = hid_reader_descriptors(READER_VID, HID_READER_PID, True)
    f["idcard_hid.umockdev"] = umockdev_file("1-6", 1, 7, READER_VID, HID_READER_PID, None, desc,
                                             "Test HID ID Reader")
    late = [bytes(HID_REPORT)] + hid_reports(bytes(60) + NO_CARD)
    f["idcard_hid.ioctl"] = hid_ioctl("/dev/bus/usb/001/007", [(FIND, late)] + cycle[1:])
    # The same reader with report id 0x01 (63 frame bytes per report), and a
    # stray report with id 0x07 before the first reply.
    stray = [bytes([0x07]) + bytes(range(1, HID_REPORT))]
    f["idcard_hid_id.ioctl"] = hid_ioctl(
        "/dev/bus/usb/001/007",
        [(FIND, stray + hid_reports(NO_CARD, 0x01))] + cycle[1:], report_id=0x01)
    # Garbage: a report of noise before a reply, a find reply with a bad
    # checksum, then a read reply whose checksum is wrong.
    bad = bytearray(FIND_OK)
    bad[-1] ^= 0xFF
    bad_read = bytearray(read_reply(text))
    bad_read[-1] ^= 0xFF
    f["idcard_hid_garbage.ioctl"] = hid_ioctl("/dev/bus/usb/001/007", [
        (FIND, [bytes([0x55]) * HID_REPORT] + hid_reports(NO_CARD)),
        (FIND, bytes(bad)),
        (FIND, FIND_OK),
        (SELECT, SELECT_OK),
        (READ, bytes(bad_read)),
    ])
    # A HID reader without an OUT endpoint in port 1-7: commands go as
    # SET_REPORT requests, here with report id 0x02 both ways.
    desc = hid_reader_descriptors(READER_VID, HID_CTRL_READER_PID, False)
    f["idcard_hid_ctrl.umockdev"] = umockdev_file("1-7", 1, 8, READER_VID, HID_CTRL_READER_PID,
                                                  None, desc, "Test HID ID Reader (no OUT)")
    f["idcard_hid_ctrl.ioctl"] = hid_ioctl("/dev/bus/usb/001/008", cycle, report_id=0x02,
                                           set_report=True)


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    OUT.mkdir(exist_ok=True)
    for name, text in sorted(fixtures().items()):
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if check and stale:
        print("stale fixtures: " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
