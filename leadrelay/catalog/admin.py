from django.contrib import admin

from leadrelay.catalog.models import Company, Contact, Partner, Service, Source


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin[Service]):
    list_display = ("code", "name_en", "name_ru", "active")


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin[Source]):
    list_display = ("name", "kind", "active", "created_at")
    list_filter = ("kind", "active")


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin[Partner]):
    list_display = ("name", "commission_percent", "active")


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin[Company]):
    list_display = ("name", "website")
    search_fields = ("name",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin[Contact]):
    list_display = ("name", "email", "phone", "company")
    search_fields = ("name", "email", "phone")
    raw_id_fields = ("company",)
