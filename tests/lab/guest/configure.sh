#!/bin/sh
# Runs inside the freshly debootstrapped guest root (chroot) after rootfs/ was copied over it.
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# Per-boot identity: systemd.machine_id= on the kernel command line; never bake one in.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id
# Per-node ssh host key comes from the seed (vmsg-identity); glusterd makes its UUID on first boot.
rm -f /etc/ssh/ssh_host_*
rm -f /var/lib/glusterd/glusterd.info
passwd -l root >/dev/null
: >/etc/fstab
echo lab >/etc/hostname

chmod 755 /usr/local/sbin/vmsg-early /usr/local/sbin/vmsg-identity
systemctl enable vmsg-early.service vmsg-identity.service ssh.service glusterd.service
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

# glusterd runs its geo-replication helper gsyncd (Python) some 25 times at every start: 11-30 s of
# CPU per guest boot, most of a lab's boot and reset. Nothing here uses geo-replication; with the
# helper diverted glusterd starts in a fraction of a second (it then reports geo-rep unavailable).
gsyncd=/usr/lib/x86_64-linux-gnu/glusterfs/gsyncd
dpkg-divert --local --rename --divert "$gsyncd.lab-disabled" --add "$gsyncd" >/dev/null
test ! -e "$gsyncd"

# LVM shows the data disks by their stable /dev/vdX names rather than /dev/ubdX.
sed -i '0,/^devices {/s//devices {\n\tpreferred_names = [ "^\/dev\/vd" ]/' /etc/lvm/lvm.conf
grep -q 'preferred_names = \[ "^/dev/vd" \]' /etc/lvm/lvm.conf

apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt/* /var/log/dpkg.log /var/log/bootstrap.log
