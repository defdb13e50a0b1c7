#!/usr/bin/env bash
# Shape check of systemd/udev/70-postgate.rules (systemd 252 has no
# `udevadm verify`): every rule names a subsystem and a vendor id (4 hex
# digits, optionally a product id), gives group postgate and mode 0660, and
# nothing else (tty rules also keep ModemManager off the port, which would
# otherwise probe a reader with AT commands); usb rules match whole devices (DEVTYPE usb_device), which is
# the node libusb opens.
# Usage: check_udev.sh RULES_FILE
set -euo pipefail
rules=${1:?usage: check_udev.sh RULES_FILE}
status=0
n=0
while IFS= read -r line || [[ -n $line ]]; do
  [[ -z ${line// } || $line =~ ^[[:space:]]*# ]] && continue
  n=$((n + 1))
  usb='^SUBSYSTEM=="usb", ENV\{DEVTYPE\}=="usb_device", ATTRS\{idVendor\}=="[0-9a-f]{4}"(, ATTRS\{idProduct\}=="[0-9a-f]{4}")?, GROUP="postgate", MODE="0660"$'
  tty='^SUBSYSTEM=="tty", ATTRS\{idVendor\}=="[0-9a-f]{4}"(, ATTRS\{idProduct\}=="[0-9a-f]{4}")?, GROUP="postgate", MODE="0660", ENV\{ID_MM_DEVICE_IGNORE\}="1"$'
  if ! [[ $line =~ $usb || $line =~ $tty ]]; then
    echo "FAIL: $rules: rule of an unexpected shape: $line"
    status=1
  fi
done <"$rules"
[[ $n -gt 0 ]] || { echo "FAIL: $rules has no rules"; exit 1; }
# Every vendor with a usb rule has a tty rule too (CDC mode of the same device).
for v in $(grep -o 'SUBSYSTEM=="usb".*idVendor}=="[0-9a-f]*"' "$rules" | grep -o '[0-9a-f]\{4\}"$' | tr -d '"' | sort -u); do
  grep -q "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"$v\"" "$rules" || { echo "FAIL: vendor $v has no tty rule"; status=1; }
done
[[ $status -eq 0 ]] && echo "ok: $n udev rules of the expected shape"
exit $status
