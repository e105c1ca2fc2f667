#!/bin/bash
# Bootstrap the generated packages, then run the role's command.
# A bind-mounted /app/generated that is empty gets the baked copy; one that
# already holds files is left exactly as it is (never deleted or replaced);
# without a mount the packages are generated in the image's own folder.
set -o errexit -o nounset -o pipefail

target=/app/generated
if grep -qs " ${target} " /proc/mounts; then
    if [ ! -w "${target}" ]; then
        echo "bootstrap: the mount ${target} is not writable by UID $(id -u): on the host," \
             "run 'sudo chown -R $(id -u):$(id -g) generated' in the project folder" >&2
        exit 1
    fi
    # Hidden files (a .gitkeep) do not count: the folder is empty to a person.
    if [ -z "$(ls "${target}")" ]; then
        cp -R /opt/baked/generated/. "${target}/"
        echo "bootstrap: copied the baked packages into the empty mount ${target}"
    else
        echo "bootstrap: ${target} is a mount that already has files: left as it is"
    fi
else
    python -m roles.generate "${target}"
fi
exec "$@"
