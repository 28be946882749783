#!/bin/sh
# Runs inside the freshly debootstrapped guest root (chroot) after rootfs/ was copied over it.
# VMSG_VARIANT: prebuilt (storage tools installed, glusterd at boot) or stock (a minimal server; the
# local apt repository is bind-mounted read-only at VMSG_REPO). VMSG_ADMIN: the sudo user's name.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
: "${VMSG_VARIANT:?}" "${VMSG_REPO:?}" "${VMSG_ADMIN:?}"

# Per-boot identity: systemd.machine_id= on the kernel command line; never bake one in.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
# Per-node ssh host key comes from the seed (vmsg-identity); glusterd makes its UUID on first boot.
rm -f /etc/ssh/ssh_host_*
rm -f /var/lib/glusterd/glusterd.info
passwd -l root >/dev/null
: >/etc/fstab
echo lab >/etc/hostname

# The sudo user the inventory logs in as, as on a cloud image (sudoers.d, no password: '*' is
# no usable password but not a locked account); vmsg-identity installs its authorized_keys.
useradd --create-home --user-group --shell /bin/bash --password '*' "$VMSG_ADMIN"
install -d -m 700 -o "$VMSG_ADMIN" -g "$VMSG_ADMIN" "/home/$VMSG_ADMIN/.ssh"
echo "$VMSG_ADMIN ALL=(ALL) NOPASSWD:ALL" >/etc/sudoers.d/90-vmsg-admin
chmod 440 /etc/sudoers.d/90-vmsg-admin
visudo -c -q -f /etc/sudoers.d/90-vmsg-admin

chmod 755 /usr/local/sbin/vmsg-early /usr/local/sbin/vmsg-identity
systemctl enable vmsg-early.service vmsg-identity.service ssh.service
systemctl set-default multi-user.target

# Units a throwaway guest does not need (timers, scrubbers, consoles, first-boot helpers).
for u in \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer \
    e2scrub_reap.service fstrim.timer logrotate.timer man-db.timer systemd-tmpfiles-clean.timer \
    systemd-timesyncd.service systemd-firstboot.service systemd-hwdb-update.service \
    ldconfig.service systemd-journal-catalog-update.service systemd-update-done.service \
    systemd-pstore.service systemd-journald-audit.socket proc-sys-fs-binfmt_misc.automount \
    systemd-binfmt.service sys-kernel-debug.mount sys-kernel-tracing.mount \
    sys-kernel-config.mount dev-hugepages.mount getty@.service serial-getty@.service \
    console-getty.service getty.target glustereventsd.service systemd-networkd-wait-online.service \
    ssh.socket
do
    systemctl mask "$u" >/dev/null 2>&1
done

if [ "$VMSG_VARIANT" = prebuilt ]; then
    systemctl enable glusterd.service

    # glusterd runs its geo-replication helper gsyncd (Python) some 25 times at every start: 11-30 s
    # of CPU per guest boot, most of a lab's boot and reset. Nothing here uses geo-replication; with
    # the helper diverted glusterd starts in a fraction of a second (it then reports geo-rep
    # unavailable). Not on stock: the site installs glusterd there, and a real server pays gsyncd too.
    gsyncd=$(dpkg-query -S '*/glusterfs/gsyncd' | head -n 1)
    gsyncd=${gsyncd#*: }
    dpkg-divert --local --rename --divert "$gsyncd.lab-disabled" --add "$gsyncd" >/dev/null
    test ! -e "$gsyncd"

    # LVM shows the data disks by their stable /dev/vdX names rather than /dev/ubdX.
    sed -i '0,/^devices {/s//devices {\n\tpreferred_names = [ "^\/dev\/vd" ]/' /etc/lvm/lvm.conf
    grep -q 'preferred_names = \[ "^/dev/vd" \]' /etc/lvm/lvm.conf
fi

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /var/log/bootstrap.log
if [ "$VMSG_VARIANT" = stock ]; then
    # The only apt source: the lab's local repository (hostfs, mounted by vmsg-early). The lab
    # namespace has no way out, so a network source would make apt-get update hang. Its index is
    # not read: the lists stay empty, as on many cloud images, and the brick role reads them first.
    echo "deb [trusted=yes] file:$VMSG_REPO ./" >/etc/apt/sources.list
    rm -f /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
fi
