# Shell helpers shared by dom0's and the domU's /init and by the scenarios (busybox sh).

# Every line the host looks for starts with this; run.sh greps the serial log for it.
MARK=XENSND-REALXEN

# Marker lines carry the machine's uptime first, so a log shows where the time went.
say() { echo "[$(cut -d' ' -f1 /proc/uptime)] $MARK: $*"; }
# A scenario's verdict; the first FAIL wins (dom0 prints exactly one RESULT line).
fail() { say "FAIL $*"; echo "$*" >> /run/failures; }
check() {  # check DESCRIPTION COMMAND... : run, and record a failure with the description
  local what=$1; shift
  if "$@"; then say "ok $what"; else fail "$what"; return 1; fi
}

# Waits for a condition without guessing how long it takes: polls until COMMAND succeeds or
# SECONDS pass (then returns 1).
wait_until() {
  local seconds=$1; shift
  local deadline=$(( $(date +%s) + seconds ))
  until "$@"; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    usleep 250000   # every poll starts processes: keep dom0's CPUs for the backend
  done
}

# The value of NAME=... on the kernel command line.
cmdline_value() {
  local word
  for word in $(cat /proc/cmdline); do
    case "$word" in "$1="*) echo "${word#*=}"; return 0;; esac
  done
  return 1
}

# "OFFSET SIZE" of the data chunk of a RIFF/WAVE file, whatever other chunks its header holds.
wav_data_chunk() {
  local file=$1 offset=12 id size total
  [ -f "$file" ] || return 1
  total=$(stat -c %s "$file")
  while [ $((offset + 8)) -le "$total" ]; do
    id=$(dd if="$file" bs=1 skip="$offset" count=4 2>/dev/null)
    size=$(od -A n -t u4 -j $((offset + 4)) -N 4 "$file" | tr -d ' ')
    if [ "$id" = data ]; then echo "$((offset + 8)) $size"; return 0; fi
    offset=$((offset + 8 + size + size % 2))
  done
  return 1
}

# md5 of exactly the sample frames of a WAVE file.
wav_data_md5() {
  local chunk; chunk=$(wav_data_chunk "$1") || { echo "no-data-chunk"; return 1; }
  set -- "$1" $chunk
  tail -c +$(($2 + 1)) "$1" | head -c "$3" | md5sum | cut -d' ' -f1
}

# Bytes of frames in a WAVE file (0 while it does not exist or has no data chunk yet).
wav_data_bytes() {
  local chunk; chunk=$(wav_data_chunk "$1") || { echo 0; return 0; }
  echo "${chunk#* }"
}

# Monotonic milliseconds (for figures only, never for pass/fail decisions).
now_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

# The domU's side of a rendezvous with dom0 through XenStore: the guest's own data/ directory
# (/local/domain/<domid>/data, which xl creates writable by the guest, and which dom0 may
# write as the privileged domain).
guest_signal() { xenstore-write "data/$1" "${2:-1}"; }
guest_has_signal() { xenstore-read "data/$1" >/dev/null 2>&1; }

# The raw format of every test clip, for aplay/arecord.
RAW="-t raw -f S16_LE -c 2 -r 48000"
