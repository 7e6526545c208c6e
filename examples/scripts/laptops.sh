#!/bin/sh
# An external command collector: any program that prints one JSON object per line.
# soc2-evidence appends the audit period's start and end dates (YYYY-MM-DD) to the
# arguments and also sets SOC2_PERIOD_START / SOC2_PERIOD_END.
# A real script would call your MDM's API or CLI here; this one prints a fixed inventory.
set -eu
start="$1"
end="$2"
printf '{"serial":"C02XL1","owner":"alice@acme.example","disk_encrypted":true,"checked_for":"%s..%s"}\n' "$start" "$end"
printf '{"serial":"C02YM2","owner":"bob@acme.example","disk_encrypted":true,"checked_for":"%s..%s"}\n' "$start" "$end"
# Anything on stderr is kept for the error message if the script fails.
echo "inventory exported" >&2
