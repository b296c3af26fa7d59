// libvirt, loaded on demand: only a node that discovers its FPGA cards through
// libvirt (kumo node --fpgas libvirt) pays for libvirt.so and the libraries it
// pulls in; every other kumo command starts without them. Each wrapper calls
// the function of the same name in libvirt (see libvirt's API reference).
#ifndef CLIBVIRT_H
#define CLIBVIRT_H

#include <stddef.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

// Loads libvirt.so.0 and resolves what Kumo calls, once; silences libvirt's
// default error printer (errors are reported through clv_last_error).
// 0, or -1 with the reason in clv_load_error().
int clv_load(void);
const char *clv_load_error(void);

virConnectPtr clv_open(const char *uri);
int clv_close(virConnectPtr conn);
// The connection's driver name, e.g. "QEMU" or "Test"; NULL on failure.
const char *clv_driver_type(virConnectPtr conn);

// PCI node devices; the array and each device are the caller's to free
// (clv_device_free, then free()).
int clv_list_pci_devices(virConnectPtr conn, virNodeDevicePtr **devices);
const char *clv_device_name(virNodeDevicePtr device);
// The device's XML description, malloc'd (free it).
char *clv_device_xml(virNodeDevicePtr device);
int clv_device_detach(virNodeDevicePtr device, const char *driver);
int clv_device_reattach(virNodeDevicePtr device);
virNodeDevicePtr clv_device_lookup(virConnectPtr conn, const char *name);
int clv_device_free(virNodeDevicePtr device);

// Every domain, running or only defined; the caller frees as for devices.
int clv_list_domains(virConnectPtr conn, virDomainPtr **domains);
const char *clv_domain_name(virDomainPtr domain);
char *clv_domain_xml(virDomainPtr domain);
int clv_domain_free(virDomainPtr domain);

// The calling thread's last libvirt error: its code (0: none) and message copied into `message`.
int clv_last_error(char *message, size_t size);

#endif
